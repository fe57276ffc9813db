#!/usr/bin/env bash
# Static checks of the shipped playbooks: yamllint, ansible-playbook --syntax-check, ansible-lint (production profile).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d ansible ] || { echo "no ansible/ folder yet"; exit 0; }
yamllint -s -c ansible/.yamllint ansible
for p in ansible/playbooks/*.yml; do
  [ -e "$p" ] || continue
  ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook --syntax-check -i localhost, "$p" >/dev/null
done
if compgen -G "ansible/playbooks/*.yml" >/dev/null; then
  (cd ansible && ansible-lint --profile production --offline -q playbooks roles)
fi
