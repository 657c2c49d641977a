/**
 * Which names mean "this machine" to `netloom serve`.
 *
 * On a loopback bind the server answers only requests whose Host header names a loopback address, so
 * a web page whose DNS name is made to point at 127.0.0.1 (DNS rebinding) cannot talk to it: its
 * requests carry its own name. Only names no DNS answer can redirect pass: IPv4 literals of
 * 127.0.0.0/8 in the dotted-decimal form browsers send, `[::1]`, and `localhost` (case-insensitive,
 * as host names are). Look-alikes are refused: `127.0.0.1.evil.example` and `localhost.evil.example`
 * are ordinary DNS names; `*.localhost` and the trailing-dot `localhost.` are left out because the
 * operating system's resolver, not the name, decides where they go, and no browser sends them for the
 * address Netloom prints. Other spellings of loopback (`127.1`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`) are
 * refused too: browsers rewrite them to the canonical form before sending, so only hand-made requests
 * carry them.
 */
import * as net from 'node:net';

/** An IPv4 literal in 127.0.0.0/8, strictly dotted decimal (net.isIPv4 refuses octal, hex and short forms). */
function isLoopbackIPv4(s: string): boolean {
  return net.isIPv4(s) && s.split('.')[0] === '127';
}

/**
 * The host name of a Host header, lowercased, without its port ("127.0.0.1:7860" -> "127.0.0.1",
 * "[::1]:80" -> "[::1]"); undefined when the header is not `name[:port]` or `[ipv6][:port]`.
 */
export function hostHeaderName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^\s:[\]/@]+)(?::\d{1,5})?$/i.exec(header);
  return m ? m[1].toLowerCase() : undefined;
}

/** A Host header's name that can only mean this machine (see the header of this file). */
export function isLoopbackHostName(name: string | undefined): boolean {
  // Stryker disable next-line ConditionalExpression: net.isIPv4(undefined) is false too; the guard is for the type
  return name === 'localhost' || name === '[::1]' || (name !== undefined && isLoopbackIPv4(name));
}

/** A Host header naming this machine. */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  return isLoopbackHostName(hostHeaderName(header));
}

/**
 * An address to listen on that only this machine can reach: `localhost`, any 127.0.0.0/8 address, or
 * the IPv6 loopback in any spelling (`::1`, `[::1]`, `0:0:0:0:0:0:0:1`). `0.0.0.0`, `::` and every
 * interface address are reachable from the network.
 */
export function isLoopbackBindAddress(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || isLoopbackIPv4(h)) return true;
  const v6 = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  // Stryker disable next-line ConditionalExpression: BlockList.check answers false for a string that is not an IPv6 address; this says so first
  if (!net.isIPv6(v6)) return false;
  const loopback = new net.BlockList();
  loopback.addAddress('::1', 'ipv6');
  loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6'); // IPv4-mapped 127.0.0.0/8
  return loopback.check(v6, 'ipv6');
}
