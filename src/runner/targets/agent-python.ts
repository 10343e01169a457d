/**
 * The local target's agent in Python, used when the host has /usr/bin/python3 (agent.ts holds the
 * Node one, the fallback). Same protocol, same behaviour: JSON lines in ({op:'exec'|'kill'}), JSON
 * lines out (output chunks in base64, then one exit message per command).
 *
 * Why a second language: a command's cost is mostly the fork. Node forks its whole ~40 MB process
 * (libuv uses fork, then waits for the exec): ~2.5 ms here. CPython uses vfork: ~0.25 ms. At one
 * command per block that is the difference between the runner being slower than zx or not
 * (docs/benchmarks.md).
 *
 * Also relays TCP connections into the namespace (op 'relay'), so that an API request costs no process.
 *
 * Exit is reported once both pipes are closed and the process is reaped, like Node's 'close'; a
 * command that closes its pipes but keeps running is noticed through SIGCHLD, never waited on.
 */
export const PYTHON_AGENT_SOURCE = String.raw`
import base64, json, os, selectors, signal, socket, subprocess, sys, threading

sel = selectors.DefaultSelector()
running = {}
out = sys.stdout.buffer

def send(m):
    out.write(json.dumps(m, separators=(',', ':')).encode() + b'\n')
    out.flush()

signal.signal(signal.SIGINT, lambda *_: None)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
sel.register(wake_r, selectors.EVENT_READ, ('wake', None))

def finish(cid):
    c = running.get(cid)
    if c is None or c['open'] > 0 or c['proc'].poll() is None:
        return
    del running[cid]
    stdin = c['proc'].stdin
    if not stdin.closed:
        sel.unregister(stdin.fileno())
        stdin.close()
    code = c['proc'].returncode
    if code < 0:
        send({'id': cid, 't': 'x', 'code': None, 'signal': signal.Signals(-code).name})
    else:
        send({'id': cid, 't': 'x', 'code': code, 'signal': None})

def kill(c):
    try:
        os.killpg(c['proc'].pid, signal.SIGKILL)
    except OSError:
        pass

def start(m):
    cid = m['id']
    try:
        proc = subprocess.Popen(['bash', '-c', m['command']], env=m['env'], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        send({'id': cid, 't': 'x', 'code': 127, 'signal': None, 'error': str(e)})
        return
    running[cid] = {'proc': proc, 'open': 2, 'stdin': base64.b64decode(m['stdin']) if m.get('stdin') else b''}
    for stream, t in ((proc.stdout, 'o'), (proc.stderr, 'e')):
        os.set_blocking(stream.fileno(), False)
        sel.register(stream.fileno(), selectors.EVENT_READ, ('out', (cid, t, stream)))
    os.set_blocking(proc.stdin.fileno(), False)
    sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, ('in', cid))

# A Unix socket whose every connection is relayed to host:port in this namespace (a thread pair per
# connection). The first byte back says how the TCP connect went: C, or R and the reason, then close.
def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass

def relay_one(client, host, port):
    try:
        remote = socket.create_connection((host, port))
    except OSError as e:
        reason = 'connection refused' if isinstance(e, ConnectionRefusedError) else str(e)
        try:
            client.sendall(b'R' + reason.encode())
        except OSError:
            pass
        client.close()
        return
    client.sendall(b'C')
    back = threading.Thread(target=pump, args=(remote, client), daemon=True)
    back.start()
    pump(client, remote)
    back.join()
    client.close()
    remote.close()

def relay(m):
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(m['path'])
        os.chmod(m['path'], 0o600)
        server.listen(64)
    except OSError as e:
        send({'id': m['id'], 't': 'x', 'code': 1, 'signal': None, 'error': str(e)})
        return
    def accept():
        while True:
            client, _ = server.accept()
            threading.Thread(target=relay_one, args=(client, m['host'], m['port']), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    send({'id': m['id'], 't': 'x', 'code': 0, 'signal': None})

pending = b''
sel.register(0, selectors.EVENT_READ, ('control', None))
while True:
    for key, _ in sel.select():
        kind, data = key.data
        if kind == 'control':
            chunk = os.read(0, 65536)
            if not chunk:
                for c in running.values():
                    kill(c)
                sys.exit(0)
            pending += chunk
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                m = json.loads(line)
                if m['op'] == 'kill':
                    if m['id'] in running:
                        kill(running[m['id']])
                elif m['op'] == 'relay':
                    relay(m)
                else:
                    start(m)
        elif kind == 'wake':
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            for cid in list(running):
                finish(cid)
        elif kind == 'in':
            c = running.get(data)
            if c is None or c['proc'].stdin.closed:
                continue
            stdin = c['proc'].stdin
            try:
                if c['stdin']:
                    c['stdin'] = c['stdin'][os.write(stdin.fileno(), c['stdin'][:65536]):]
            except BlockingIOError:
                continue
            except OSError:
                c['stdin'] = b''
            if not c['stdin']:
                sel.unregister(stdin.fileno())
                try:
                    stdin.close()
                except OSError:
                    pass
                finish(data)
        else:
            cid, t, stream = data
            if stream.closed:
                continue
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                continue
            if chunk:
                send({'id': cid, 't': t, 'd': base64.b64encode(chunk).decode()})
                continue
            sel.unregister(stream.fileno())
            stream.close()
            running[cid]['open'] -= 1
            finish(cid)
`;
