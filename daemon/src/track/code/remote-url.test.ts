import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pickRemote, stripCredentials } from './remote-url.ts';

describe('stripCredentials', () => {
  it('drops user and password from http(s) URLs', () => {
    assert.equal(stripCredentials('https://user:token@github.com/org/repo.git'), 'https://github.com/org/repo.git');
    assert.equal(stripCredentials('https://ghp_abc123@github.com/org/repo.git'), 'https://github.com/org/repo.git');
    assert.equal(stripCredentials('http://a%40b:p@ss@host:8080/r'), 'http://host:8080/r');
    assert.equal(stripCredentials('https://github.com/org/repo.git'), 'https://github.com/org/repo.git');
  });
  it('keeps an ssh login but not its password', () => {
    assert.equal(stripCredentials('ssh://git:pw@host:2222/x.git'), 'ssh://git@host:2222/x.git');
    assert.equal(stripCredentials('ssh://git@host/x.git'), 'ssh://git@host/x.git');
  });
  it('leaves scp-like addresses and local paths alone', () => {
    assert.equal(stripCredentials('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
    assert.equal(stripCredentials('/srv/git/repo.git'), '/srv/git/repo.git');
    assert.equal(stripCredentials('../sibling'), '../sibling');
  });
});

describe('pickRemote', () => {
  it('prefers origin, else the first listed', () => {
    assert.equal(pickRemote(['backup', 'origin', '']), 'origin');
    assert.equal(pickRemote(['backup', 'upstream']), 'backup');
    assert.equal(pickRemote(['']), undefined);
  });
});
