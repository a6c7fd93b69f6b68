"""Shell command lines judged against the demo's "no recursive rm" rule.

``@D@`` stands for the victim directory. DISGUISES must be denied by ``DEMO_RULE``
(each runs a recursive delete of ``@D@``, or cannot be judged statically); BENIGN must
pass it and parse without ``unknown``. ``ORACLE`` is the sample that
tests/integration/ssh/test_disguises.py runs through real bash to prove the directory
really goes away.
"""

from __future__ import annotations

DEMO_RULE = {"programs": ["rm"], "options": ["recursive"]}

DISGUISES: list[str] = [
    # spellings of rm and of its options
    "rm -rf @D@", "rm -r @D@", "rm -R @D@", "rm -fr @D@", "rm -Rf @D@", "rm --recursive --force @D@",
    "rm --recursive @D@", "rm --rec @D@", "rm --recu --force @D@", "rm -f -r @D@", "rm @D@ -rf",
    "rm -v -f -R @D@", "rm -dr @D@", "rm -Rv @D@", "rm -rf -- @D@", "rm -r -- @D@", "/bin/rm -rf @D@",
    "/usr/bin/rm -rf @D@", "\\rm -rf @D@", "'rm' -rf @D@", '"rm" -rf @D@', "r''m -rf @D@", 'r""m -rf @D@',
    "r\\m -rf @D@", "$'rm' -rf @D@", "$'\\x72m' -rf @D@", "$'\\162\\155' -rf @D@", "rm '-rf' @D@",
    'rm "-r" @D@', "rm -\\r @D@", "rm $'-r' @D@", "rm $'\\x2dr' @D@", "rm -rf @D@ 2>/dev/null",
    "2>/dev/null rm -rf @D@", ">/dev/null rm -rf @D@", "rm -rf @D@ </dev/null", "rm -rf @D@ # tidy up",
    "rm -rf @D@\n",
    # run-time values in an argument of rm
    "rm $(echo -rf) @D@", "rm `echo -r` @D@", "rm -$(echo r) @D@", "rm ${X:--rf} @D@", "rm $OPTS @D@",
    "rm -[r] @D@", "rm *", "rm {-rf,@D@}", "sh -c 'rm \"$@\"' _ -rf @D@", "bash -c 'rm $*' x -rf @D@",
    # lists, pipelines, compound commands, functions, substitutions
    "ls; rm -rf @D@", "ls && rm -rf @D@", "false || rm -rf @D@", "true | rm -rf @D@", "(rm -rf @D@)",
    "{ rm -rf @D@; }", "if true; then rm -rf @D@; fi", "if false; then :; else rm -rf @D@; fi",
    "while true; do rm -rf @D@; break; done", "until false; do rm -rf @D@; break; done",
    "for x in 1; do rm -rf @D@; done", "case x in x) rm -rf @D@;; esac", "case x in (y|x) rm -rf @D@ ;; esac",
    "f() { rm -rf @D@; }; f", "function f { rm -rf @D@; }; f", "function f() { rm -rf @D@; }; f",
    "echo $(rm -rf @D@)", 'echo "$(rm -rf @D@)"', "echo `rm -rf @D@`", "x=$(rm -rf @D@)",
    'echo "${X:-x}" $(rm -rf @D@)', "ls\nrm -rf @D@", "rm -rf @D@ &", "cd / && rm -rf @D@",
    "[[ -d @D@ ]] && rm -rf @D@", "test -d @D@ && rm -rf @D@", "! rm -rf @D@", "time rm -rf @D@",
    "time -p rm -rf @D@", "ls | (rm -rf @D@)", "cat /dev/null > /dev/null; rm -rf @D@",
    "echo ok;rm -rf @D@", "echo ok&&rm -rf @D@", "ls\\\n; rm -rf @D@", "x=1 y=2 rm -rf @D@",
    # wrappers
    "bash -c 'rm -rf @D@'", 'sh -c "rm -rf @D@"', "dash -c 'rm -rf @D@'", "bash -lc 'rm -rf @D@'",
    "bash -xc 'rm -rf @D@'", "bash --norc -c 'rm -rf @D@'", "bash -o pipefail -c 'rm -rf @D@'",
    "sh -c 'sh -c \"rm -rf @D@\"'", "bash -c 'bash -c '\"'\"'rm -rf @D@'\"'\"''", "zsh -c 'rm -rf @D@'",
    "ksh -c 'rm -rf @D@'", "busybox sh -c 'rm -rf @D@'", "sudo sh -c 'rm -rf @D@'", "nice rm -rf @D@",
    "nice -n 10 rm -rf @D@", "nice -10 rm -rf @D@", "nice --adjustment=5 rm -rf @D@", "nohup rm -rf @D@",
    "timeout 5 rm -rf @D@", "timeout -s KILL 5 rm -rf @D@", "timeout --signal=TERM 10s rm -rf @D@",
    "timeout -k 1 5 rm -rf @D@", "env rm -rf @D@", "env -i rm -rf @D@", "env X=1 rm -rf @D@",
    "env -u HOME rm -rf @D@", "env -S 'rm -rf @D@'", "env -- rm -rf @D@", "command rm -rf @D@",
    "command -p rm -rf @D@", "exec rm -rf @D@", "exec -a foo rm -rf @D@", "builtin exec rm -rf @D@",
    "stdbuf -o0 rm -rf @D@", "stdbuf --output=L rm -rf @D@", "ionice -c3 rm -rf @D@",
    "ionice -c 2 -n 7 rm -rf @D@", "setsid rm -rf @D@", "setsid -w rm -rf @D@", "busybox rm -rf @D@",
    "sudo rm -rf @D@", "sudo -u root rm -rf @D@", "sudo -n -- rm -rf @D@", "sudo -E HOME=/ rm -rf @D@",
    "doas rm -rf @D@", "doas -u root rm -rf @D@", "chroot / rm -rf @D@", "unbuffer rm -rf @D@",
    "strace -f -o /dev/null rm -rf @D@", "flock /tmp/lock rm -rf @D@", "flock /tmp/lock -c 'rm -rf @D@'",
    "flock -w 5 /tmp/lock rm -rf @D@", "script -qc 'rm -rf @D@' /dev/null", "su -c 'rm -rf @D@'",
    "ssh localhost 'rm -rf @D@'", "ssh -p 22 host rm -rf @D@", "watch rm -rf @D@", "watch -n 1 'rm -rf @D@'",
    "taskset 1 rm -rf @D@", "echo @D@ | xargs --max-lines rm -rf", "sudo -h rm -rf @D@", "toybox rm -rf @D@",
    "eatmydata rm -rf @D@", "fakeroot -- rm -rf @D@", "gosu root rm -rf @D@", "sshpass -p pw rm -rf @D@",
    "proxychains4 -q rm -rf @D@", "logsave /dev/null rm -rf @D@", "valgrind --tool=none -q rm -rf @D@",
    "trap 'rm -rf @D@' EXIT", "nice -n5 nohup timeout 9 env rm -rf @D@",
    "sudo -u root -- env -i nice rm -rf @D@", "echo @D@ | xargs rm -rf", "echo @D@ | xargs rm -r",
    "echo @D@ | xargs -n1 rm -rf", "echo @D@ | xargs -I{} rm -rf {}", "echo -r @D@ | xargs rm",
    "printf '%s\\0' @D@ | xargs -0 rm -rf", "echo @D@ | xargs -- rm -rf", "find @D@ -delete",
    "find @D@ -depth -delete", "find @D@ -exec rm -rf {} +", "find @D@ -maxdepth 0 -exec rm -rf {} \\;",
    "find @D@ -maxdepth 0 -execdir rm -rf {} \\;", "find @D@ -maxdepth 0 -ok rm -rf {} \\;",
    "find / -maxdepth 0 -exec sh -c 'rm -rf @D@' \\;",
    # interpreters with inline code
    "python3 -c 'import shutil; shutil.rmtree(\"@D@\")'", "python -c 'import os'",
    "python3 -Sc 'import shutil; shutil.rmtree(\"@D@\")'", "perl -e 'use File::Path; rmtree(\"@D@\")'",
    "perl -MFile::Path -e 'File::Path::remove_tree(\"@D@\")'", "perl -ne 'system(\"rm -rf @D@\")' /dev/null",
    "ruby -e 'require \"fileutils\"; FileUtils.rm_rf(\"@D@\")'",
    "node -e 'require(\"fs\").rmSync(\"@D@\",{recursive:true})'", "php -r 'system(\"rm -rf @D@\");'",
    "awk 'BEGIN{system(\"rm -rf @D@\")}'", "gawk 'BEGIN { system(\"rm -rf @D@\") }'",
    "lua -e 'os.execute(\"rm -rf @D@\")'", "sudo python3 -c 'print(1)'",
    # not resolvable statically: unknown, denied
    "$(echo rm) -rf @D@", "`echo rm` -rf @D@", "rm${IFS}-rf${IFS}@D@", "/bin/r[m] -rf @D@", "/bin/r? -rf @D@",
    "{rm,-rf,@D@}", "a=rm; $a -rf @D@", "a=rm; ${a} -rf @D@", "eval 'rm -rf @D@'", "eval rm -rf @D@",
    "echo 'rm -rf @D@' | sh", "echo 'rm -rf @D@' | bash", "sh <<<'rm -rf @D@'", "bash -s <<< 'rm -rf @D@'",
    "sh <<EOF\nrm -rf @D@\nEOF", ". /dev/stdin <<< 'rm -rf @D@'", "source <(echo 'rm -rf @D@')",
    "bash <(echo 'rm -rf @D@')", "sh", "bash -s", "python3", "python3 -", "perl", "sh -c \"$(echo rm) -rf @D@\"",
    "bash -c \"$CMD\"", "alias x=rm; x -rf @D@", "shopt -s expand_aliases; alias r=rm; r -rf @D@",
    "hash -p /bin/rm ls; ls -rf @D@", "fish -c 'rm -rf @D@'", "coproc rm -rf @D@", "((1)) && rm -rf @D@",
    "echo $((1+1)); rm -rf @D@", "cat <<EOF\n$(rm -rf @D@)\nEOF", "echo 'unterminated", "ls )",
    "if true; then ls", "rm -rf @D@ \\0", "parallel rm -rf ::: @D@", "at now <<< 'rm -rf @D@'",
    "\"$SHELL\" -c 'rm -rf @D@'", "~/bin/$X -rf @D@", "*rm -rf @D@", "timeout --bogus 5 rm -rf @D@",
    "sudo --bogus rm -rf @D@", "nice -z rm -rf @D@", "su", "ssh host", "chroot /",
    "tmux new-session -d 'rm -rf @D@'", "=rm -rf @D@",
]

BENIGN: list[str] = [
    "ls", "ls -la", "ls -la /etc", "ls -R /var/log", "cat /etc/hostname", "uptime", "df -h", "du -sh /var/log",
    "free -m", "whoami", "id", "hostname", "uname -a", "ps aux", "ps aux | grep nginx", "top -b -n1",
    "systemctl status nginx", "journalctl -u nginx --since today", "tail -n 100 /var/log/syslog",
    "head -5 /etc/passwd", "grep -r error /var/log", "grep -R foo .", "grep -rn TODO src", "wc -l /etc/passwd",
    "sort f | uniq -c | sort -rn", "sed -n 1,5p f", "cut -d: -f1 /etc/passwd",
    "find /var/log -name '*.gz' -mtime +7", "find . -type f -name '*.log' -print", "find . -exec ls -l {} \\;",
    "find . -name '*.tmp' -exec rm {} +", "rm file.txt", "rm -f file.txt", "rm -- -r", "rm -i f", "rm -v a b",
    "rm ./*.log", "rm -f /tmp/*.pid", "rmdir dir", "mkdir -p a/b/c", "cp -v a b", "cp a b", "mv a b",
    "chmod 644 f", "chmod -R 755 dir", "chown -R u:g d", "touch f", "echo hello", "echo rm -rf @D@",
    "printf '%s\\n' a b", "echo 'rm -rf /'", "grep 'rm -rf' history.txt", "cat notes | grep rm", "date",
    "sleep 1", "true", "false", "env", "env | sort", "nice -n 10 ls", "nohup ls", "timeout 5 ls",
    "sudo ls -la /root", "sudo -u postgres psql -c 'select 1'", "bash -c 'ls -la'", "sh -c 'echo hi'",
    "bash -c 'uptime; df -h'", "find . -name '*.tmp' | xargs ls -l", "echo a | xargs echo", "ls | wc -l",
    "(cd /tmp && ls)", "{ ls; pwd; }", "if [ -f x ]; then cat x; fi", "for f in *.log; do gzip \"$f\"; done",
    "while read l; do echo \"$l\"; done < f", "case $1 in a) ls;; *) pwd;; esac", "f() { ls; }; f",
    "cat <<EOF\nhello\nEOF", "cat <<'EOF'\n$(rm -rf @D@)\nEOF", "cat <<-EOF\n\thello\n\tEOF",
    "echo $HOME", "echo \"$(date)\"", "ls $(pwd)", "echo ${HOME}", "ls ~", "ls ~/x", "cd /var && ls",
    "export X=1; echo $X", "X=1 env", "git status", "git log --oneline -5", "docker ps", "kubectl get pods -A",
    "mysql -e 'select 1'", "python3 script.py", "python3 -m http.server", "perl script.pl", "node app.js",
    "ruby x.rb", "awk -f prog.awk data", "ps aux | awk '{print $2}'", "awk -F: '$3 >= 1000 {print $1}' /etc/passwd",
    "tar czf a.tgz dir", "tar xzf a.tgz", "gzip -d f.gz",
    "zcat f.gz | head", "curl -s http://x", "wget -q -O- http://x", "ssh-keygen -l -f key",
    "openssl x509 -in c -noout -text", "ip addr", "ss -tlnp", "netstat -tlnp", "lsof -i :80", "dmesg | tail",
    "cat /proc/cpuinfo", "stat f", "file f", "md5sum f", "sha256sum f", "diff a b", "diff -r a b", "cp -r a b",
    "rsync -av a/ b/", "echo done", "ls -la # rm -rf @D@", "echo '#'; ls", "echo \"a;rm -rf @D@\"",
    "echo a\\;rm -rf @D@", "grep -e rm -e -rf f", "man rm", "which rm", "type rm", "command -v rm",
    "rm --help", "rm --version", "test -d @D@", "[ -d @D@ ]", "[[ -d @D@ && -n $X ]]", "ls 2>&1 | tee out",
    "ls > out 2>&1", "ls &> out", "ls >> out", "exec 2>&1", "true && false || echo x", "ls &", "wait",
    "kill -0 1", "crontab -l", "systemctl restart nginx", "service nginx reload", "apt list --installed",
    "dpkg -l", "rpm -qa", "pwd", "cd", "umask", "ulimit -a", "nproc", "lscpu", "lsblk", "mount", "df -i",
    "vmstat 1 3", "echo {a,b}", "echo *", "ls -d */", "sudo -l", "sudo -v", "env -i PATH=/bin ls",
    "xargs -0 -n1 echo < list", "watch -n 5 df -h", "time ls", "for i in 1 2 3\ndo\n  echo $i\ndone",
    "select x in a b; do echo $x; break; done", "echo a |& cat", "nice ls -r", "ls -r", "sort -r f",
    "ls -lR", "grep -r rm .", "tail -f /var/log/syslog", "journalctl -r", "ssh-add -l", "scp -r a b",
    "echo $'tab\\there'", "find . -maxdepth 1 -type d", "find /tmp -name x -exec cat {} \\;",
    "ln -s a b", "readlink -f x", "realpath .", "basename /a/b", "dirname /a/b", "tr a-z A-Z < f",
    "sudo systemctl restart nginx", "sudo -u www-data ls /var/www", "sh ./deploy.sh", "bash script.sh arg",
    "exec ls", "command ls", "stdbuf -oL tail -f log", "timeout 10 curl -s http://x", "ionice -c3 tar cf a b",
]

ORACLE: list[str] = [
    "rm --recursive --force @D@", "rm --rec @D@", "rm @D@ -rf", "bash -c 'rm -rf @D@'", 'sh -c "rm -rf @D@"',
    "nice rm -rf @D@", "timeout 5 rm -rf @D@", "echo @D@ | xargs rm -rf", "find @D@ -delete",
    "find @D@ -exec rm -rf {} +", "$(echo rm) -rf @D@", "rm${IFS}-rf${IFS}@D@", "/bin/r[m] -rf @D@",
    "python3 -c 'import shutil; shutil.rmtree(\"@D@\")'", "r''m -rf @D@", "$'\\x72m' -rf @D@", "{rm,-rf,@D@}",
    "a=rm; $a -rf @D@", "eval 'rm -rf @D@'", "echo 'rm -rf @D@' | sh", "sh <<EOF\nrm -rf @D@\nEOF",
    "echo $(rm -rf @D@)", "sh -c 'rm \"$@\"' _ -rf @D@", "env X=1 rm -rf @D@", "echo -r @D@ | xargs rm",
    "rm $(echo -rf) @D@", "hash -p /bin/rm ls; ls -rf @D@", "perl -e 'use File::Path; rmtree(\"@D@\")'",
    "awk 'BEGIN{system(\"rm -rf @D@\")}'", "rm -\\r @D@",
]
