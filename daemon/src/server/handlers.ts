/** The shape of the method table the server dispatches to. */
import type { InitializeResult, Method, ParamsOf, ResultOf } from '../protocol/index.ts';
import type { Connection } from './connection.ts';

export interface HandlerContext {
  connection: Connection;
}

export type Handler<M extends Method> = (params: ParamsOf<M>, ctx: HandlerContext) => ResultOf[M] | Promise<ResultOf[M]>;

export type Handlers = { [M in Exclude<Method, 'initialize'>]?: Handler<M> } & { initialize: () => InitializeResult };
