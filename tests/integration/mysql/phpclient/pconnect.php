<?php
/*
 * One web request through a mysqli persistent link ("p:") to the bastion, served by a
 * long-lived PHP process (tests/integration/mysql/test_php.py runs it under `php -S`).
 *
 * Connection settings come from the environment, never the request: BASTION_PORT,
 * BASTION_USER, BASTION_CA (the bastion's ca.crt, verified with the host name) and
 * BASTION_TOKEN (the password; the link's cache key includes it, so one token = one link).
 * The query string carries the statements to run: ?sql=...&sql2=... (judged by the bastion).
 *
 * Prints one JSON object: the PHP process id, mysqli's link counters, the bastion's
 * connection id (the greeting's thread id), the upstream CONNECTION_ID(), @marker (set by a
 * previous request on this link if the bastion did not reset it), and each statement's rows
 * or error.
 */
declare(strict_types=1);

mysqli_report(MYSQLI_REPORT_OFF);
header('Content-Type: application/json');

function run(mysqli $m, string $sql): array
{
    $res = $m->query($sql);
    if ($res === false) {
        return ['errno' => $m->errno, 'error' => $m->error];
    }
    if ($res === true) {
        return ['ok' => true];
    }
    $rows = $res->fetch_all(MYSQLI_NUM);
    $res->free();
    return ['rows' => $rows];
}

$out = ['pid' => getmypid(), 'before' => mysqli_get_links_stats()];
$m = mysqli_init();
$m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
$m->ssl_set(null, null, getenv('BASTION_CA'), null, null);
$m->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
$host = ($_GET['persistent'] ?? '1') === '1' ? 'p:127.0.0.1' : '127.0.0.1';
$ok = @$m->real_connect($host, getenv('BASTION_USER'), getenv('BASTION_TOKEN'), 'shop',
                       (int) getenv('BASTION_PORT'), null, MYSQLI_CLIENT_SSL);
if (!$ok) {
    $out['connect_error'] = ['errno' => $m->connect_errno, 'error' => $m->connect_error];
    echo json_encode($out);
    exit;
}
$out['after'] = mysqli_get_links_stats();
$out['thread_id'] = $m->thread_id;
$out['state'] = run($m, 'SELECT CONNECTION_ID(), CURRENT_USER(), @marker');
foreach (['sql', 'sql2'] as $key) {
    if (isset($_GET[$key])) {
        $out[$key] = run($m, $_GET[$key]);
    }
}
echo json_encode($out);
