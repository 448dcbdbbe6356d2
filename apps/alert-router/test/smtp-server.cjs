// A real SMTP server process for the email channel's tests, built on the smtp-server package.
// The parent forks it with its settings in SMTP_TEST_CONFIG (JSON) and talks to it over IPC:
// it answers {type:"listening", port} once bound to 127.0.0.1, then {type:"message", ...} for
// every message it accepts. Only loopback, only for tests.
'use strict';
const { SMTPServer } = require('smtp-server');

const cfg = JSON.parse(process.env.SMTP_TEST_CONFIG || '{}');
const server = new SMTPServer({
  secure: cfg.mode === 'tls',
  key: cfg.key,
  cert: cfg.cert,
  // STARTTLS is offered on a plain connection; AUTH is only accepted once TLS is up.
  hideSTARTTLS: cfg.mode === 'plain',
  allowInsecureAuth: cfg.mode === 'plain',
  authOptional: false,
  authMethods: ['PLAIN', 'LOGIN'],
  size: 1024 * 1024,
  logger: false,
  onAuth(auth, session, callback) {
    if (auth.username === cfg.user && auth.password === cfg.pass) return callback(null, { user: auth.username });
    const err = new Error('Authentication credentials invalid');
    err.responseCode = 535;
    return callback(err);
  },
  onRcptTo(address, session, callback) {
    if (address.address.endsWith('@rejected.test')) {
      const err = new Error('Recipient address rejected: mailbox unavailable');
      err.responseCode = 550;
      return callback(err);
    }
    return callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      process.send({
        type: 'message',
        secure: session.secure,
        user: session.user,
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      if (cfg.failData) {
        const err = new Error('Requested action aborted: local error in processing');
        err.responseCode = 451;
        return callback(err);
      }
      callback();
    });
  },
});
server.on('error', (err) => process.send({ type: 'error', message: String(err && err.message) }));
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.server.address().port }));
process.on('disconnect', () => server.close(() => process.exit(0)));
