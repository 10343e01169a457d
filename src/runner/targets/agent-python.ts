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
 * Also relays TCP connections into the namespace (op 'relay'), so that an API request costs no process,
 * and tells whether the namespace's network changed since it was last asked (op 'netchanged').
 *
 * Exit is reported once both pipes are closed and the process is reaped, like Node's 'close'; a
 * command that closes its pipes but keeps running is noticed through SIGCHLD, never waited on.
 */
export const PYTHON_AGENT_SOURCE = String.raw`
import base64, collections, json, os, selectors, signal, socket, stat, subprocess, sys, threading, time

sel = selectors.DefaultSelector()
running = {}
out = sys.stdout.buffer
# Stream threads (op 'open') answer too: one message at a time on stdout.
out_lock = threading.Lock()

# Lines the main thread holds to write at once (several answers to one event): each write crosses
# the container runtime's relays (the docker target), so one write instead of three saves their work.
held = None

def send(m):
    line = json.dumps(m, separators=(',', ':')).encode() + b'\n'
    with out_lock:
        if held is not None and threading.current_thread() is threading.main_thread():
            held.append(line)
            return
        out.write(line)
        out.flush()

def hold():
    global held
    held = []

def release():
    global held
    lines, held = held, None
    if lines:
        with out_lock:
            out.write(b''.join(lines))
            out.flush()

signal.signal(signal.SIGINT, lambda *_: None)

# Fds this agent inherited (a make jobserver's, a pipe its parent waits on) are not the commands'
# to hold: bash is started without closing fds (see bash()), so they are marked close-on-exec here.
try:
    for name in os.listdir('/proc/self/fd'):
        if int(name) > 2:
            try:
                os.set_inheritable(int(name), False)
            except OSError:
                pass
except OSError:
    pass

wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
sel.register(wake_r, selectors.EVENT_READ, ('wake', None))

def finish(cid):
    global spare_for
    c = running.get(cid)
    if c is None or c['open'] > 0 or c['proc'].poll() is None:
        return
    del running[cid]
    stdin = c['proc'].stdin
    if not stdin.closed:
        sel.unregister(stdin.fileno())
        stdin.close()
    # The reading and the exit go out in one write.
    hold()
    try:
        after = c.get('after')
        if after is not None:
            # The node's state after the command (op 'nodestate', unasked: one round trip less per
            # block), read before the exit is sent: the runner is idle until then, so the read has the
            # CPU to itself, and the snapshot after the block finds it waiting. Only when nothing else of
            # the runner's runs here: otherwise the state is not "after" anything, and the runner asks.
            if running:
                send({'id': after['id'], 't': 'x', 'code': 2, 'signal': None, 'error': 'other commands still run'})
            else:
                # Whatever the read meets, the command's exit still goes out.
                try:
                    node_state(after)
                except Exception as e:
                    send({'id': after['id'], 't': 'x', 'code': 2, 'signal': None, 'error': 'reading the node failed: %r' % e})
        code = c['proc'].returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                # A real-time signal has no name of its own.
                name = 'SIG%d' % -code
            send({'id': cid, 't': 'x', 'code': None, 'signal': name})
        else:
            send({'id': cid, 't': 'x', 'code': code, 'signal': None})
    finally:
        release()
    # Spares for the next commands, started once nothing waits (the main loop's idle turn).
    spare_for = (c['env'], c['key'])

def kill(c):
    try:
        os.killpg(c['proc'].pid, signal.SIGKILL)
    except OSError:
        pass

# The next commands' bash, started while the runner handles the last answer: each waits for its
# script on a pipe, then evals it (same $0, LINENO, options and environment as bash -c SCRIPT).
# A command then costs no fork and no bash start-up. Two are kept: the runner's next command
# often comes before a bash started after the last one is ready (~1 ms), and then it would wait
# for it. Scripts with NUL bytes or larger than the pipe's buffer get a fresh bash -c; another
# environment drops the spares.
SPARE_MAX = 60000
SPARES = 2
spares = []
# (env, key) of the last command: spares are started for it when the agent is idle.
spare_for = None

# A bash with its own pipes (ours never block the loop), in a process group of its own: kill()
# ends it and what it started. Not a session of its own (start_new_session) where Python can
# say so (3.11): in a container the kernel makes a scheduling group for each new session, ~0.8 ms
# a command. Not close_fds either: Python's own fds are close-on-exec anyway (PEP 446), and
# closing the others in the child doubles Popen's cost. posix_spawn would be cheaper still, but
# glibc's leaves its internal signals ignored in the child, and after exec in the command.
GROUP = {'process_group': 0} if sys.version_info >= (3, 11) else {'start_new_session': True}

def bash(argv, env, pass_fds=()):
    for fd in pass_fds:
        os.set_inheritable(fd, True)
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            close_fds=False, **GROUP)
    for f in (proc.stdin, proc.stdout, proc.stderr):
        os.set_blocking(f.fileno(), False)
    return proc

def start_spare(env, key):
    r, w = os.pipe()
    # What bash takes at its start, taken again when the script comes (a spare may have waited
    # minutes, and a command before it may have renamed the host): $SECONDS counts from the
    # command's start, $HOSTNAME is the host's name now (unless the environment sets it).
    hostname = '' if 'HOSTNAME' in env else 'read -r HOSTNAME </proc/sys/kernel/hostname 2>/dev/null; '
    boot = '__book_script=$(< /dev/fd/%d); exec %d<&-; SECONDS=0; %seval "unset __book_script; $__book_script"' % (r, r, hostname)
    try:
        spares.append({'proc': bash(['bash', '-c', boot], env, (r,)), 'key': key, 'w': w})
        return True
    except OSError:
        os.close(w)
        return False
    finally:
        os.close(r)

def drop_spare(s):
    if s in spares:
        spares.remove(s)
    os.close(s['w'])
    kill(s)
    for f in (s['proc'].stdin, s['proc'].stdout, s['proc'].stderr):
        f.close()
    s['proc'].wait()

def take_spare(script, key):
    for s in list(spares):
        if s['key'] != key or s['proc'].poll() is not None:
            drop_spare(s)
    if not spares or len(script) > SPARE_MAX or b'\0' in script:
        return None
    s = spares.pop(0)
    try:
        os.write(s['w'], script)
    except OSError:
        # It died since it was looked at: the command gets a fresh bash.
        drop_spare(s)
        return None
    os.close(s['w'])
    return s['proc']

def start(m):
    cid = m['id']
    key = json.dumps(m['env'], sort_keys=True)
    try:
        proc = take_spare(m['command'].encode(), key) or bash(['bash', '-c', m['command']], m['env'])
    except (OSError, ValueError) as e:
        send({'id': cid, 't': 'x', 'code': 127, 'signal': None, 'error': str(e)})
        return
    running[cid] = {'proc': proc, 'open': 2, 'stdin': base64.b64decode(m['stdin']) if m.get('stdin') else b'', 'env': m['env'], 'key': key,
                    'after': m.get('after')}
    for stream, t in ((proc.stdout, 'o'), (proc.stderr, 'e')):
        sel.register(stream.fileno(), selectors.EVENT_READ, ('out', (cid, t, stream)))
    if running[cid]['stdin']:
        sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, ('in', cid))
    else:
        # Nothing to write: the command sees the end of its input at once.
        proc.stdin.close()

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
        remote.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as e:
        reason = 'connection refused' if isinstance(e, ConnectionRefusedError) else str(e)
        # Say why, then read what the client may have sent already: closing a socket with unread
        # data resets it, and the client would see ECONNRESET instead of the reason.
        try:
            client.sendall(b'R' + reason.encode())
            client.shutdown(socket.SHUT_WR)
            client.settimeout(5)
            while client.recv(65536):
                pass
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

# A byte stream to a TCP endpoint or a Unix socket in this namespace, carried over the agent's
# own pipes (op 'open'; 'data', 'eof', 'close' from the runner): for a machine whose sockets
# this host cannot reach (a node container on Docker Desktop's VM). A reader thread sends what
# arrives; a writer thread drains a queue, so a slow peer never stalls the agent's loop. The first
# answer is t:'c' (connected), or t:'x' with the reason.
streams = {}

# python3-minimal has no queue module: a deque and a condition do its job here.
class Inbox:
    def __init__(self):
        self.items = collections.deque()
        self.ready = threading.Condition()
    def put(self, item):
        with self.ready:
            self.items.append(item)
            self.ready.notify()
    def get(self):
        with self.ready:
            while not self.items:
                self.ready.wait()
            return self.items.popleft()

def stream_open(m):
    sid = m['id']
    q = Inbox()
    streams[sid] = q
    def run():
        try:
            if m.get('path'):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(m['path'])
            else:
                s = socket.create_connection((m['host'], m['port']), timeout=10)
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            streams.pop(sid, None)
            reason = 'connection refused' if isinstance(e, ConnectionRefusedError) else str(e)
            send({'id': sid, 't': 'x', 'code': 1, 'signal': None, 'error': reason})
            return
        send({'id': sid, 't': 'c'})
        def write():
            while True:
                data = q.get()
                try:
                    if data is None:
                        s.shutdown(socket.SHUT_WR)
                        return
                    if data is False:
                        s.shutdown(socket.SHUT_RDWR)
                        return
                    s.sendall(data)
                except OSError:
                    return
        threading.Thread(target=write, daemon=True).start()
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                send({'id': sid, 't': 'o', 'd': base64.b64encode(data).decode()})
        except OSError:
            pass
        streams.pop(sid, None)
        q.put(False)
        send({'id': sid, 't': 'x', 'code': 0, 'signal': None})
        s.close()
    threading.Thread(target=run, daemon=True).start()

def stream_input(m):
    q = streams.get(m['id'])
    if q is None:
        return
    if m['op'] == 'data':
        q.put(base64.b64decode(m['d']))
    else:
        q.put(None if m['op'] == 'eof' else False)

# Netlink listeners in this namespace (op 'netchanged'): links and IPv4 addresses (rtnetlink
# groups LINK and IPV4_IFADDR) and nftables commits, which iptables-nft makes (NFNLGRP_NFTABLES).
# The kernel queues a notification before the change's system call returns, so a command that
# changed the network has always left one by the time it exits. Exit 0: changed, or cannot tell
# (first ask, lost notifications, legacy iptables, no netlink); exit 1: nothing changed for sure.
netwatch = None

def open_netwatch():
    try:
        v = subprocess.run(['iptables', '-V'], capture_output=True, text=True).stdout
    except OSError:
        v = ''
    if 'legacy' in v:
        return False
    try:
        route = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, 0)
        route.bind((0, 0x1 | 0x10))
        nft = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, 12)
        nft.bind((0, 0))
        nft.setsockopt(270, 1, 7)
        return [route, nft]
    except OSError:
        return False

def net_changed():
    global netwatch
    if netwatch is None:
        netwatch = open_netwatch()
        return True
    if netwatch is False:
        return True
    changed = False
    for s in netwatch:
        while True:
            try:
                if not s.recv(65536):
                    break
                changed = True
            except BlockingIOError:
                break
            except OSError:
                changed = True
                break
    return changed

# Reads without a process (ops 'read' and 'nodestate'): the docker target's snapshot after every
# block reads the kubeconfig, the static-pod folder, the daemons' pid files and logs' tails, and a
# bash per read cost more than the block itself (the local target reads them with node:fs instead).
def answer(cid, data):
    for i in range(0, len(data), 49152):
        send({'id': cid, 't': 'o', 'd': base64.b64encode(data[i:i + 49152]).decode()})
    send({'id': cid, 't': 'x', 'code': 0, 'signal': None})

# A file's bytes, or why not ('PATH: reason', as the runner says it).
def whole_file(path):
    try:
        with open(path, 'rb') as f:
            return f.read(), None
    except OSError as e:
        return None, '%s: %s' % (path, e.strerror)

def read_file(m):
    data, why = whole_file(m['path'])
    if why is not None:
        send({'id': m['id'], 't': 'e', 'd': base64.b64encode(why.encode()).decode()})
        send({'id': m['id'], 't': 'x', 'code': 1, 'signal': None})
        return
    answer(m['id'], data)

def visible(d):
    try:
        return sorted(f for f in os.listdir(d) if not f.startswith('.'))
    except OSError:
        return []

# The snapshot's reads take only regular files: a FIFO or a device named like a pid file or a log
# (*.pid, *.log, *.json) would block the agent or never end. Opened without blocking (and never
# as a controlling terminal), then checked.
def open_regular(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None, None
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None, None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None, None
    return fd, st

def read_to_end(fd, first):
    parts = [os.read(fd, first)]
    while parts[-1]:
        parts.append(os.read(fd, 65536))
    return b''.join(parts)

def pid_in(path):
    fd, _ = open_regular(path)
    if fd is None:
        return None
    try:
        first = os.read(fd, 4096).split(b'\n', 1)[0]
    except OSError:
        return None
    finally:
        os.close(fd)
    if first.strip().isdigit():
        return int(first)
    digits = bytes(c for c in first if 48 <= c <= 57)
    return int(digits) if digits else None

def alive(pid):
    try:
        fd = os.open('/proc/%d/stat' % pid, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, TypeError):
        return False
    try:
        return b') Z ' not in os.read(fd, 4096)
    except OSError:
        return False
    finally:
        os.close(fd)

# A log's last lines, kept while the file is the same one at the same size and times: logs only
# grow, and most blocks leave them as they were (the snapshot after every block reads each one).
# Kept only for a file that was quiet for a while before it was looked at, and whose times have a
# part below the second: the kernel stamps times in ticks (of milliseconds, or of seconds on some
# file systems), and a file rewritten to the same size within one tick keeps its times.
TAIL_QUIET_NS = 50 * 1000 * 1000
tails = {}

def tail(path, n):
    now = time.time_ns()
    fd, st = open_regular(path)
    if fd is None:
        tails.pop(path, None)
        return []
    try:
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, n)
        kept = tails.get(path)
        if kept is not None and kept[0] == key:
            return kept[1]
        os.lseek(fd, max(0, st.st_size - 16384), os.SEEK_SET)
        lines = read_to_end(fd, 16384).decode('utf-8', 'replace').split('\n')
    except OSError:
        return []
    finally:
        os.close(fd)
    if lines and lines[-1] == '':
        lines.pop()
    found = [l.replace('\r', '')[:400] for l in lines[-n:] if l != '']
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    if now - changed > TAIL_QUIET_NS and st.st_mtime_ns % 1000000000 != 0:
        tails[path] = (key, found)
    else:
        tails.pop(path, None)
    return found

def machine_files(rt, md, lines):
    import hashlib
    manifests = []
    for name in visible(md):
        path = os.path.join(md, name)
        try:
            if not os.path.isfile(path):
                continue
            with open(path, 'rb') as f:
                data = f.read()
        except OSError:
            continue
        manifests.append([name, len(data), hashlib.sha256(data).hexdigest()[:12]])
    provisioned = []
    for name in visible(rt):
        if name.endswith('.pid'):
            pid = pid_in(os.path.join(rt, name))
            provisioned.append([name[:-4], pid, alive(pid) if pid else False])
    logs = {}
    dd = os.path.join(rt, 'daemons')
    in_dd = visible(dd)
    for d, names in ((dd, in_dd), (os.path.join(rt, 'logs'), None)):
        for name in names if names is not None else visible(d):
            if name.endswith('.log'):
                logs[name[:-4]] = tail(os.path.join(d, name), lines)
    daemons = []
    for name in in_dd:
        if not name.endswith('.json'):
            continue
        record = {}
        fd, _ = open_regular(os.path.join(dd, name))
        if fd is not None:
            try:
                record = json.loads(read_to_end(fd, 65536))
                if not isinstance(record, dict):
                    record = {}
            except (OSError, ValueError):
                record = {}
            finally:
                os.close(fd)
        pid = pid_in(os.path.join(dd, name[:-5] + '.pid'))
        daemons.append({'name': name[:-5], 'argv': record.get('argv', []), 'pid': pid, 'running': alive(pid) if pid else False,
                        'restarts': record.get('restarts', 0), 'startedAt': record.get('startedAt')})
    return {'manifests': manifests, 'provisioned': provisioned, 'logs': logs, 'daemons': daemons}

# One Docker API GET on a Unix socket, HTTP/1.0: the body is plain and ends when the socket closes.
def docker_get(path, socket_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(socket_path)
        s.sendall(('GET %s HTTP/1.0\r\nHost: docker\r\n\r\n' % path).encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    finally:
        s.close()
    head, _, body = b''.join(chunks).partition(b'\r\n\r\n')
    status = head.split(b' ', 2)[1].decode() if head.startswith(b'HTTP/') and head.count(b' ') >= 1 else '?'
    if status != '200':
        raise OSError('HTTP %s: %s' % (status, body[:300].decode('utf-8', 'replace')))
    return body.decode('utf-8', 'replace')

# What dockerd shows in a list changes only with its containers' config.v2.json, which it rewrites
# (a new file, renamed over the old) before the change is visible to the API: the folder's entries
# with each file's inode and mtime say whether a list can change, for a few stats instead of a list.
def docker_fingerprint(data_root):
    d = os.path.join(data_root, 'containers')
    try:
        names = os.listdir(d)
    except OSError:
        return None
    parts = []
    for name in sorted(names):
        try:
            st = os.stat(os.path.join(d, name, 'config.v2.json'))
            parts.append('%s %d %d' % (name, st.st_ino, st.st_mtime_ns))
        except OSError:
            parts.append(name + ' -')
    import hashlib
    return hashlib.sha256('\n'.join(parts).encode()).hexdigest()

# The snapshot's reads of one node in one message (op 'nodestate', or unasked after a command that
# carried 'after'): the docker target pays a round trip through the reader's Docker for each
# message, and a bash per read cost more than the block. Files: the static-pod folder, pid files,
# log tails, daemon records, and whole files asked for by path. Docker: the container list, or
# "same" when the fingerprint is the one the runner says it holds. Network: changed or not.
def node_state(m):
    out = {'netChanged': net_changed()}
    try:
        out['files'] = machine_files(m['runtime'], m['manifests'], m['lines'])
    except Exception as e:
        out['filesError'] = repr(e)
    # Whole files the runner reads after each block too (the kubeconfig), base64, or why not.
    read = {}
    for path in m.get('read') or []:
        data, why = whole_file(path)
        read[path] = {'error': why} if why is not None else {'data': base64.b64encode(data).decode()}
    out['read'] = read
    fingerprint = docker_fingerprint(m['dockerData'])
    # Unchanged: answered now, from the loop (a few stats and small files). A list asks dockerd: a thread.
    if fingerprint is not None and fingerprint == m.get('dockerSeen'):
        out['docker'] = {'same': True}
        answer(m['id'], json.dumps(out).encode())
        return
    def run():
        try:
            out['docker'] = {'fingerprint': fingerprint, 'containers': json.loads(docker_get('/containers/json?all=1', m['socket']))}
        except (OSError, ValueError) as e:
            out['docker'] = {'error': 'connection refused' if isinstance(e, ConnectionRefusedError) else str(e)}
        answer(m['id'], json.dumps(out).encode())
    threading.Thread(target=run, daemon=True).start()

pending = b''
sel.register(0, selectors.EVENT_READ, ('control', None))
while True:
    ready = sel.select(0 if spare_for is not None else None)
    if not ready and spare_for is not None:
        # Idle: one spare at a time, so a message that comes meanwhile waits for one start at most,
        # up to SPARES (a command may have run without taking one). No bash to be had (out of
        # processes): commands start their own, and say why.
        if len(spares) >= SPARES or not start_spare(*spare_for):
            spare_for = None
        continue
    for key, _ in ready:
        kind, data = key.data
        if kind == 'control':
            chunk = os.read(0, 65536)
            if not chunk:
                for c in running.values():
                    kill(c)
                for s in spares:
                    kill(s)
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
                elif m['op'] == 'open':
                    stream_open(m)
                elif m['op'] in ('data', 'eof', 'close'):
                    stream_input(m)
                elif m['op'] == 'read':
                    read_file(m)
                elif m['op'] == 'nodestate':
                    node_state(m)
                elif m['op'] == 'netchanged':
                    send({'id': m['id'], 't': 'x', 'code': 0 if net_changed() else 1, 'signal': None})
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
