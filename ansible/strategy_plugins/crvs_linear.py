# crvs's strategy: Ansible's linear order of tasks, run through Mitogen when Debian's ansible-mitogen is installed
# and supports this Ansible (one Python interpreter kept per server instead of one per task: no-change runs 1.4
# to 1.9 times as fast on the lab), and through Ansible's own linear strategy otherwise.
from __future__ import annotations

try:
    # ansible_mitogen.loaders refuses an Ansible version it was not made for, with an AnsibleError.
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy

    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        pass

    ENGINE = "mitogen"
except Exception as e:  # ImportError: not installed; AnsibleError: made for another Ansible
    from ansible.plugins.strategy.linear import StrategyModule  # noqa: F401

    ENGINE = "linear (%s)" % (str(e).splitlines() or [type(e).__name__])[0]
