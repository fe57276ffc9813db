// Docker HEALTHCHECK: the process answers /health (liveness; the database has its own check).
require('node:http')
  .get({ host: '127.0.0.1', port: Number(process.env.PORT || 8080), path: '/health', timeout: 2000 }, (res) =>
    process.exit(res.statusCode === 200 ? 0 : 1),
  )
  .on('error', () => process.exit(1))
  .on('timeout', () => process.exit(1));
