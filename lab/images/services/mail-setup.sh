#!/bin/sh
# The lab relay's fixed settings, applied once when the image is built. What depends on the lab (its domain, the
# certificate, the relay's account) is written by `crvs lab up` (src/lab/delivery.ts).
set -eu
# One mailbox for the lab: every local part of the lab's domains ends in /var/mail/ops.
id ops >/dev/null 2>&1 || useradd --create-home --shell /usr/sbin/nologin ops
postconf -e \
  'inet_interfaces = all' \
  'inet_protocols = ipv4' \
  'maillog_file = /var/log/postfix.log' \
  'local_recipient_maps =' \
  'luser_relay = ops' \
  'mailbox_size_limit = 0' \
  'relayhost =' \
  'smtpd_tls_security_level = encrypt' \
  'smtpd_tls_auth_only = yes' \
  'smtpd_tls_protocols = >=TLSv1.2' \
  'smtpd_tls_mandatory_protocols = >=TLSv1.2' \
  'smtpd_tls_cert_file = /etc/crvs-lab/mail/cert.pem' \
  'smtpd_tls_key_file = /etc/crvs-lab/mail/key.pem' \
  'smtpd_sasl_auth_enable = yes' \
  'smtpd_sasl_type = cyrus' \
  'smtpd_sasl_path = smtpd' \
  'cyrus_sasl_config_path = /etc/postfix/sasl' \
  'smtpd_sasl_security_options = noanonymous' \
  'smtpd_sasl_authenticated_header = yes' \
  'smtpd_tls_received_header = yes' \
  'smtpd_client_restrictions = permit_sasl_authenticated, reject' \
  'smtpd_relay_restrictions = permit_sasl_authenticated, reject' \
  'smtpd_recipient_restrictions = permit_sasl_authenticated, reject'
# Only the submission port, and outside the chroot, so that smtpd reads the SASL database in /etc.
postconf -M# smtp/inet
postconf -Me 'submission/inet = submission inet n - n - - smtpd'
postconf -Pe 'submission/inet/syslog_name=postfix/submission'
cat > /etc/postfix/sasl/smtpd.conf <<'CONF'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: /etc/sasldb2
CONF
adduser postfix sasl >/dev/null
install -d -m 0755 /etc/crvs-lab/mail
