# One JSON object per line on stdout for crvs to render live progress and a summary.
# Never prints task results' data: only host, task name, status and Ansible's own error message
# (tasks that handle secrets run with no_log, which Ansible censors before callbacks see them).
from __future__ import annotations

import json
import sys
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: crvs_events
    type: stdout
    short_description: JSON lines for crvs
    description: Emits one JSON object per task start, host result and the final stats.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "crvs_events"

    def _emit(self, event):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def v2_playbook_on_play_start(self, play):
        self._emit({"event": "play", "name": play.get_name()})

    def _tell_engine(self):
        if self._engine_told:
            return
        self._engine_told = True
        # What runs the tasks: the ENGINE of strategy_plugins/crvs_linear.py, loaded once the first play runs.
        shim = next((m for n, m in list(sys.modules.items()) if n.endswith(".crvs_linear")), None)
        self._emit({"event": "engine", "strategy": getattr(shim, "ENGINE", "unknown")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}
        self._engine_told = False

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._tell_engine()
        self._started[task._uuid] = time.monotonic()
        self._emit({"event": "task", "name": task.get_name(), "role": task._role.get_name() if task._role else None})

    def v2_playbook_on_handler_task_start(self, task):
        self._started[task._uuid] = time.monotonic()
        self._emit({"event": "task", "name": task.get_name(), "handler": True})

    def _result(self, status, result):
        res = result._result
        message = res.get("msg") or res.get("stderr") or ""
        if res.get("_ansible_no_log"):
            message = "(output hidden: no_log)"
        self._emit({
            "event": "result",
            "status": status,
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "changed": bool(res.get("changed")),
            # Seconds since the task started (on every host at once with the linear strategy).
            "seconds": round(time.monotonic() - self._started.get(result._task._uuid, time.monotonic()), 2),
            "message": str(message)[:2000] if status in ("failed", "unreachable") else "",
        })

    def v2_runner_on_ok(self, result):
        self._result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            hosts[host] = {k: s[k] for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")}
        self._emit({"event": "stats", "hosts": hosts})
