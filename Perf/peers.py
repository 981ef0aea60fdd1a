"""The target of the client benchmarks: nginx with one worker, access log off, a fixed 17-byte
answer on every path, a plain and (optionally) a TLS listener. Shared by http_vs_wrk.py,
workload_mix.py and connections.py so every client row measures against the same server."""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

NGINX_CONF = """
worker_processes 1;
{affinity}
worker_rlimit_nofile 20000;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 19000; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    ssl_session_cache shared:SSL:20m;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        {tls}
        {locations}
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""

TLS_LISTENER = """listen 127.0.0.1:{tls_port} ssl backlog=4096;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;"""


def raise_nofile():
    """Soft open-file limit up to the hard one (a preexec_fn for clients holding many sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_measured(argv, timeout):
    """Runs argv; returns (stdout, CPU seconds user+sys, peak RSS in KiB), the child's own (wait4).
    Output goes to files, not pipes, so a chatty child cannot block on a full pipe while we wait."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, preexec_fn=raise_nofile)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                proc.kill()
            time.sleep(0.05)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            sys.exit(f"{' '.join(argv[:4])} failed ({code}): {err.read().decode().strip()[:500]}")
        out.seek(0)
        return out.read().decode(), usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def start_nginx(work, port, tls_port=None, pin_cpu0=True, key="rsa", locations=""):
    """nginx serving from the directory `work`; `key` "ec" (P-256) makes thousands of handshakes
    cheap, "rsa" (2048) is what most sites serve; `locations`: more location blocks before the
    catch-all one (nginx syntax)."""
    tls = ""
    if tls_port:
        newkey = ["-newkey", "rsa:2048"] if key == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"],
                       check=True, capture_output=True)
        tls = TLS_LISTENER.format(dir=work, tls_port=tls_port)
    with open(f"{work}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(dir=work, port=port, tls=tls, affinity="worker_cpu_affinity 01;" if pin_cpu0 else "",
                                  locations=locations))
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", work, "-c", f"{work}/nginx.conf",
                              "-e", f"{work}/error.log"], preexec_fn=raise_nofile)
    time.sleep(1)
    return nginx


def write_results(printed, markdown, rows, markdown_path=None, summary_path=None):
    """A benchmark's ending: `printed` to stdout, `markdown` to `markdown_path`, `rows` appended as
    JSON lines to `summary_path` (the rows Perf/summary.py reads)."""
    print(printed)
    if markdown_path:
        with open(markdown_path, "w") as f:
            f.write(markdown + "\n")
    if summary_path:
        with open(summary_path, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


def stop_nginx(nginx):
    nginx.terminate()
    nginx.wait()
