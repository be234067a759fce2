"""The official Python client's exec and port-forward against kube-testserver.

python_streams.py CHECK POD [PORT]: one check per run; prints what it saw and
exits 0 when it matched. Uses $KUBECONFIG.
"""
import sys

from kubernetes import client, config
from kubernetes.stream import portforward, stream


def main():
    check, pod = sys.argv[1], sys.argv[2]
    config.load_kube_config()
    v1 = client.CoreV1Api()
    if check == "exec":
        out = stream(v1.connect_get_namespaced_pod_exec, pod, "default",
                     command=["sh", "-c", "echo out; echo err >&2"],
                     stderr=True, stdin=False, stdout=True, tty=False)
        print(repr(out))
        return "out" in out
    if check == "exit-code":
        resp = stream(v1.connect_get_namespaced_pod_exec, pod, "default",
                      command=["sh", "-c", "echo x; exit 7"],
                      stderr=True, stdin=False, stdout=True, tty=False,
                      _preload_content=False)
        resp.run_forever(timeout=10)
        print("returncode", resp.returncode)
        return resp.returncode == 7
    if check == "stdin":
        resp = stream(v1.connect_get_namespaced_pod_exec, pod, "default",
                      command=["sh", "-c", "read line; echo got:$line"],
                      stderr=True, stdin=True, stdout=True, tty=False,
                      _preload_content=False)
        resp.write_stdin("hello\n")
        out = ""
        while resp.is_open():
            resp.update(timeout=5)
            out += resp.read_stdout()
        print(repr(out))
        return "got:hello" in out
    if check == "portforward":
        port = int(sys.argv[3])
        pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, "default",
                         ports=str(port))
        sock = pf.socket(port)
        sock.setblocking(True)
        sock.sendall(b"ping through the tunnel")
        got = b""
        while len(got) < 23:
            chunk = sock.recv(1024)
            if not chunk:
                break
            got += chunk
        sock.close()
        print(repr(got), "error:", pf.error(port))
        return got == b"ping through the tunnel"
    if check == "portforward-http":
        port = int(sys.argv[3])
        pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, "default",
                         ports=str(port))
        sock = pf.socket(port)
        sock.setblocking(True)
        sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        sock.close()
        print(repr(got[-200:]))
        return got.endswith(b"served through the tunnel\n")
    raise SystemExit("unknown check " + check)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
