# Run inside a lab server by bench/security.mjs (python3 -c): where each secret read on stdin (base64, one per line)
# appears on this server. Prints JSON: [{"secret": index, "place": ..., "mode": "owner:group:mode" for files}].
# A multi-line secret (an SSH private key) is looked for by its middle line: its first lines are the same in every
# key of its type, its middle ones hold the private part. Files also get their file system type (tmpfs: memory).
import base64, glob, grp, json, os, pwd, subprocess, sys

values = [base64.b64decode(l) for l in sys.stdin.read().split()]


def needle(v):
    lines = [l for l in v.strip().split(b"\n") if l]
    return lines[len(lines) // 2] if len(lines) > 1 else v


needles = [needle(v) for v in values]
hits = []


def found(data, place, mode=None, fs=None):
    for i, n in enumerate(needles):
        if n and n in data:
            hits.append({"secret": i, "place": place, **({"mode": mode, "fs": fs} if mode else {})})


# Files: grep finds the candidates (the needles on its stdin, never in its arguments), Python says which secret.
roots = ["/etc", "/var/lib", "/var/log", "/run", "/root", "/home", "/usr/local", "/tmp", "/srv", "/opt", "/data"]
skip = ["/var/lib/docker/overlay2", "/var/lib/docker/image", "/var/lib/docker/volumes"]
grep = subprocess.run(
    ["grep", "-rlF", "-f", "/dev/stdin", *[r for r in roots if os.path.isdir(r)]],
    input=b"\n".join(n for n in needles if n) + b"\n", capture_output=True)
for path in grep.stdout.decode(errors="replace").split("\n"):
    if not path or any(path.startswith(s) for s in skip):
        continue
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        continue
    mode = f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}:{oct(st.st_mode & 0o777)[2:]}"
    fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], capture_output=True).stdout.decode().strip()
    found(data, path, mode, fs)

found(subprocess.run(["journalctl", "--no-pager", "-o", "cat"], capture_output=True).stdout, "the journal")

me = f"/proc/{os.getpid()}"
for p in glob.glob("/proc/[0-9]*"):
    if p == me:
        continue
    for what in ("cmdline", "environ"):
        try:
            with open(f"{p}/{what}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        try:
            name = open(f"{p}/comm").read().strip()
        except OSError:
            name = "?"
        found(data, f"process {name} ({what})")

if os.path.exists("/usr/bin/docker"):
    ids = subprocess.run(["docker", "ps", "-aq"], capture_output=True).stdout.split()
    if ids:
        found(subprocess.run(["docker", "inspect", *[i.decode() for i in ids]], capture_output=True).stdout,
              "docker inspect (containers)")
    services = subprocess.run(["docker", "service", "ls", "-q"], capture_output=True).stdout.split()
    if services:
        found(subprocess.run(["docker", "service", "inspect", *[s.decode() for s in services]], capture_output=True).stdout,
              "docker service inspect")

print(json.dumps(hits))
