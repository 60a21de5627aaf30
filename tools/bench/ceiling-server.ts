import restify from 'restify';

/**
 * The ceiling: a bare restify server answering a JSON POST with a small JSON body, run as its own
 * process by the bench (`node ceiling-server.js <port>`) and hit by the same load generator as
 * Bouncer. None of Bouncer's checks or store work: what restify and Node cost on this machine.
 */
const port = Number(process.argv[2] ?? 0);
const server = restify.createServer({ name: 'ceiling' });
server.post('/echo', restify.plugins.bodyParser({ maxBodySize: 16 * 1024, mapParams: false }), (req, res, next) => {
  const body = req.body as { target?: unknown } | undefined;
  res.send(200, { ok: true, target: body?.target ?? null });
  next();
});
server.get('/healthz', (_req, res, next) => {
  res.send(200, { status: 'ok' });
  next();
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
