/**
 * Raw requests to a local server, sent exactly as written: the request target and the Host header
 * are not normalised by the client, so tests can send what a hostile client would.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

/**
 * A WebSocket handshake to 127.0.0.1:`port`: 101 when the server upgrades, else the status it
 * refused with. `host`: the exact Host header (default: the one Node derives).
 */
export function upgradeStatus(port: number, target: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: target,
      agent: false,
      setHost: host === undefined,
      headers: {
        ...(host === undefined ? {} : { host }),
        connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request to 127.0.0.1:`port` with the target as given (fetch would normalise "../" and
 * percent-escapes away); a `host` entry in `headers` is sent as the exact Host header.
 */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
