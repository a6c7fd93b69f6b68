// Node `mysql` 2.x through the bastion: connect with TLS (verifying the CA), run one
// statement, print {"rows": [...]} or {"error": {...}} as JSON on stdout.
// Usage: MYSQL_PWD=<token> node client.js <host> <port> <user> <ca-file> <sql>
// (BASTION_NO_TLS=1: connect without TLS, to see the bastion refuse that)
'use strict';
const fs = require('fs');
const mysql = require('mysql');

const [host, port, user, caFile, sql] = process.argv.slice(2);
const conn = mysql.createConnection({
  host, port: Number(port), user, password: process.env.MYSQL_PWD || '',
  ssl: process.env.BASTION_NO_TLS ? undefined : { ca: fs.readFileSync(caFile), rejectUnauthorized: true },
  connectTimeout: 10000,
});

function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  conn.destroy();
}

conn.connect((err) => {
  if (err) {
    finish({ error: { code: err.code, errno: err.errno || null, message: err.sqlMessage || err.message } });
    return;
  }
  conn.query(sql, (qerr, rows) => {
    if (qerr) {
      finish({ error: { code: qerr.code, errno: qerr.errno || null, message: qerr.sqlMessage || qerr.message } });
      return;
    }
    finish({ rows, version: require('mysql/package.json').version });
  });
});
