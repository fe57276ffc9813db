// docker argv for the lab's network, volumes and server containers. Pure builders.
import type { CommandSpec } from '../remote/executor.js';
import { LAB_LABEL, type LabServer, type LabTopology } from './topology.js';

const label = (lab: string) => `${LAB_LABEL}=${lab}`;

export const networkInspect = (t: LabTopology): CommandSpec => ({
  argv: ['docker', 'network', 'inspect', '--format', '{{json .}}', t.network.name],
  allowFailure: true,
  description: `look for network ${t.network.name}`,
});

export const networkCreate = (t: LabTopology): CommandSpec => ({
  argv: [
    'docker',
    'network',
    'create',
    '--driver',
    'bridge',
    '--subnet',
    t.network.subnet,
    '--gateway',
    t.network.gateway,
    '--label',
    label(t.name),
    t.network.name,
  ],
  description: `create network ${t.network.name} (${t.network.subnet})`,
});

export const volumeCreate = (t: LabTopology, volume: string): CommandSpec => ({
  argv: ['docker', 'volume', 'create', '--label', label(t.name), volume],
  description: `create volume ${volume}`,
});

export const containerInspect = (container: string): CommandSpec => ({
  argv: ['docker', 'container', 'inspect', '--format', '{{json .}}', container],
  allowFailure: true,
  description: `look for container ${container}`,
});

/**
 * What a systemd + sshd + inner-Docker container needs on these kernels (LAB.md): every capability but the one
 * missing from the bounding set, no seccomp/apparmor, all devices, the host cgroup tree, tmpfs /run.
 */
export function systemdFlags(): string[] {
  return [
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--device-cgroup-rule',
    'a *:* rwm',
    '--cgroupns=host',
    '--volume',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
  ];
}

export function runServer(t: LabTopology, server: LabServer, image: string): CommandSpec {
  return {
    argv: [
      'docker',
      'run',
      '--detach',
      '--name',
      server.container,
      '--hostname',
      server.name,
      '--label',
      label(t.name),
      '--label',
      `${LAB_LABEL}.server=${server.name}`,
      '--label',
      `${LAB_LABEL}.environment=${server.environment}`,
      ...systemdFlags(),
      // Loop devices for the encrypted data volume (an ext4 image): Docker's /dev has none. The helper makes the
      // node of the device this hands out (ansible/roles/crvs_data_volume/files/crvs-data-volume).
      '--device',
      '/dev/loop-control',
      '--volume',
      `${server.dockerVolume}:/var/lib/docker`,
      '--network',
      t.network.name,
      '--ip',
      server.address,
      '--dns',
      t.services.address,
      '--dns-search',
      t.domain,
      image,
      '/sbin/init',
    ],
    description: `start server ${server.name} (${server.address})`,
  };
}

export const servicesVolumes = (t: LabTopology) => ({
  registry: `${t.name}-registry`,
  aptCache: `${t.name}-apt-cache`,
  /** The lab CA and the relay's certificate: kept when the services container is replaced for a new image. */
  mail: `${t.name}-mail`,
});

export function runServices(t: LabTopology, image: string): CommandSpec {
  const v = servicesVolumes(t);
  return {
    argv: [
      'docker',
      'run',
      '--detach',
      '--name',
      t.services.container,
      '--hostname',
      t.services.hostname,
      '--label',
      label(t.name),
      '--label',
      `${LAB_LABEL}.server=${t.services.hostname}`,
      ...systemdFlags(),
      '--volume',
      `${v.registry}:/var/lib/docker-registry`,
      '--volume',
      `${v.aptCache}:/var/cache/apt-cacher-ng`,
      '--volume',
      `${v.mail}:/etc/crvs-lab/mail`,
      '--publish',
      `${t.services.registryPush}:5000`,
      '--network',
      t.network.name,
      '--ip',
      t.services.address,
      image,
      '/sbin/init',
    ],
    description: `start lab services (registry, DNS, apt cache, mail) at ${t.services.address}`,
  };
}

export const containerStart = (container: string): CommandSpec => ({
  argv: ['docker', 'start', container],
  description: `start ${container}`,
});

/** systemd shuts down cleanly on SIGRTMIN+3 (the image's STOPSIGNAL); give it time. */
export const containerStop = (container: string): CommandSpec => ({
  argv: ['docker', 'stop', '--time', '30', container],
  description: `stop ${container}`,
});

/** Run a script inside a container; the script (and any secret in it) travels on stdin, never argv. */
export const execScript = (container: string, script: string, description: string): CommandSpec => ({
  argv: ['docker', 'exec', '-i', container, 'bash', '-s'],
  stdin: script,
  description,
  timeoutMs: 5 * 60_000,
});

export const listByLabel = (kind: 'container' | 'volume' | 'network', lab: string): CommandSpec => ({
  argv: [
    'docker',
    kind,
    'ls',
    ...(kind === 'container' ? ['--all'] : []),
    '--quiet',
    '--filter',
    `label=${label(lab)}`,
  ],
  description: `list lab ${kind}s`,
});

export const removeContainers = (ids: string[]): CommandSpec => ({
  argv: ['docker', 'container', 'rm', '--force', '--volumes', ...ids],
  description: `remove ${ids.length} container(s)`,
});

export const removeVolumes = (ids: string[]): CommandSpec => ({
  argv: ['docker', 'volume', 'rm', '--force', ...ids],
  description: `remove ${ids.length} volume(s)`,
});

export const removeNetworks = (ids: string[]): CommandSpec => ({
  argv: ['docker', 'network', 'rm', ...ids],
  description: `remove ${ids.length} network(s)`,
});
