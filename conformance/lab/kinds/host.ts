import { join } from 'node:path';
import type { Backend, BackendProcess } from '../backend.ts';
import type { LabNode } from '../model.ts';

// Host node: addresses and routes come from the generic node setup; this adds a tiny HTTP
// server (answers every request with the node's name) so traffic checks have a real endpoint.

const serverSource = `
const http = require('node:http');
const [port, name] = process.argv.slice(1);
http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(name + ' ' + req.socket.localAddress + '\\n');
}).listen(Number(port), '0.0.0.0', () => console.log('listening on ' + port));
`;

export async function startHttpServer(backend: Backend, node: LabNode, dir: string): Promise<BackendProcess | null> {
  if (node.httpPort === undefined) return null;
  return backend.spawn(node.name, [process.execPath, '-e', serverSource, String(node.httpPort), node.name], {
    label: 'http',
    logFile: join(dir, 'http.log'),
  });
}
