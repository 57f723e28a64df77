// The baseline: an express hello-world route on the same machine, in its own process.
import express from 'express';

const app = express();
app.get('/hello', (_req, res) => res.send('hello world'));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
