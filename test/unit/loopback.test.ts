/**
 * loopback.ts: which listen addresses only this machine can reach (serve's "exposed to the network"
 * note and its DNS-rebinding guard depend on it), and how a Host header is read.
 */
import { describe, expect, it } from 'vitest';
import { hostHeaderName, isLoopbackBindAddress, isLoopbackHostHeader } from '../../engine/host/loopback.js';

describe('isLoopbackBindAddress', () => {
  it('127.0.0.0/8, localhost and the IPv6 loopback in any spelling are loopback', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '127.255.255.254', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      expect(isLoopbackBindAddress(h), h).toBe(true);
  });
  it('every other address is reachable from the network', () => {
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.2', '128.0.0.1', '::2', 'example.com', '127.0.0.1.evil.example', 'localhost.evil.example', '127.1'])
      expect(isLoopbackBindAddress(h), h).toBe(false);
  });
  it('an IPv6 literal needs both brackets or neither', () => {
    // one bracket is a malformed address, not ::1 with a stray character
    for (const h of ['[::1', '::1]', 'x::1]', '[::1x', '(::1]', '[::1)']) expect(isLoopbackBindAddress(h), h).toBe(false);
    expect(isLoopbackBindAddress('[0:0:0:0:0:0:0:1]')).toBe(true);
  });
});

describe('hostHeaderName / isLoopbackHostHeader', () => {
  it('drops the port and lowercases; a malformed header has no name', () => {
    expect(hostHeaderName('LocalHost:7860')).toBe('localhost');
    expect(hostHeaderName('[::1]:80')).toBe('[::1]');
    expect(hostHeaderName('127.0.0.1')).toBe('127.0.0.1');
    for (const h of [undefined, '', '[::1].evil:80', '127.0.0.1:80:80', '127.0.0.1:x', 'a b', 'user@127.0.0.1']) expect(hostHeaderName(h), String(h)).toBeUndefined();
  });
  it('accepts only loopback IPv4 literals, localhost and [::1]', () => {
    for (const h of ['127.0.0.1:1', '127.9.9.9', 'localhost', 'LOCALHOST:2', '[::1]:3']) expect(isLoopbackHostHeader(h), h).toBe(true);
    for (const h of ['127.0.0.1.evil.example', 'localhost.', 'a.localhost', '127.1', '0x7f.0.0.1', '[::ffff:127.0.0.1]', '[::1].evil', '2130706433'])
      expect(isLoopbackHostHeader(h), h).toBe(false);
  });
});
