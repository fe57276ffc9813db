// `crvs lab up`: converge the lab to the spec. Every step looks before it acts, so a second run is a no-op
// and a run after a partial failure repairs what is missing.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadSpec } from '../config/load.js';
import { DEMO_BASE_IMAGE } from '../deploy/demo-images.js';
import { CrvsError, PreconditionError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import { sensitive } from '../secrets/sensitive.js';
import {
  containerInspect,
  containerStart,
  execScript,
  networkCreate,
  networkInspect,
  removeContainers,
  runServer,
  runServices,
  servicesVolumes,
  volumeCreate,
} from './containers.js';
import { type Delivery, LAB_MAIL_DIR, serverDeliveryScript, servicesDeliveryScript } from './delivery.js';
import { ensureHost } from './host.js';
import {
  buildImage,
  debootstrap,
  type ImageRecipe,
  imageExists,
  importImage,
  labRecipes,
  tagImage,
  tarRootfs,
} from './images.js';
import { renderSshConfig } from './ssh-config.js';
import { type LabPaths, type LabState, labPaths } from './state.js';
import { type LabServer, type LabTopology, labTopology } from './topology.js';
import { waitForPort, waitForSsh } from './wait.js';

export interface LabRun {
  exec: Executor;
  progress: (line: string) => void;
  /** Whether crvs runs as root (debootstrap and the host set-up need it). */
  root: boolean;
}

export interface LabUpOptions {
  specFile: string;
  name: string;
  dir: string;
  mirror?: string;
}

export interface LabUpResult {
  state: LabState;
  paths: LabPaths;
  created: string[];
  ms: number;
}

async function ensureImage(run: LabRun, recipe: ImageRecipe, mirror?: string): Promise<boolean> {
  if ((await run.exec.run(imageExists(recipe.tag))).code === 0) return false;
  const started = Date.now();
  if (recipe.kind === 'debian') {
    if (!run.root)
      throw new PreconditionError(
        'building the lab base image (debootstrap) needs root',
        'run: sudo crvs lab up',
      );
    run.progress(`building ${recipe.tag} from Debian's archive (debootstrap, about a minute)`);
    const work = await mkdtemp(join(tmpdir(), 'crvs-rootfs-'));
    try {
      await run.exec.run(debootstrap(join(work, 'rootfs'), mirror));
      await run.exec.run(tarRootfs(join(work, 'rootfs'), join(work, 'rootfs.tar')));
      await run.exec.run(importImage(join(work, 'rootfs.tar'), recipe));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } else {
    run.progress(`building ${recipe.tag} (apt-get inside the build)`);
    await run.exec.run(buildImage(recipe));
  }
  run.progress(`built ${recipe.tag} in ${Math.round((Date.now() - started) / 1000)} s`);
  return true;
}

async function ensureNetwork(run: LabRun, t: LabTopology): Promise<boolean> {
  const found = await run.exec.run(networkInspect(t));
  if (found.code === 0) {
    const net = JSON.parse(found.stdout) as { IPAM?: { Config?: { Subnet?: string }[] } };
    const subnet = net.IPAM?.Config?.[0]?.Subnet;
    if (subnet !== t.network.subnet)
      throw new CrvsError('E_LAB_NETWORK', `network ${t.network.name} exists with subnet ${subnet}`, {
        hint: `remove it (crvs lab down --name ${t.name}) or give the lab another name`,
      });
    return false;
  }
  await run.exec.run(networkCreate(t));
  return true;
}

/**
 * Creates the container if missing, starts it if stopped. With `image`, a container running another image is
 * replaced: only for stateless containers whose data lives in named volumes (the lab services), never a server.
 */
async function ensureContainer(
  run: LabRun,
  container: string,
  create: () => Promise<void>,
  image?: string,
): Promise<'created' | 'replaced' | 'started' | undefined> {
  const found = await run.exec.run(containerInspect(container));
  if (found.code !== 0) {
    await create();
    return 'created';
  }
  const info = JSON.parse(found.stdout) as { State: { Running: boolean }; Config: { Image: string } };
  if (image && info.Config.Image !== image) {
    await run.exec.run(removeContainers([container]));
    await create();
    return 'replaced';
  }
  if (info.State.Running) return undefined;
  await run.exec.run(containerStart(container));
  return 'started';
}

async function ensureSecrets(
  run: LabRun,
  paths: LabPaths,
): Promise<Pick<Delivery, 'publicKey' | 'password'>> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.identity)) {
    run.progress(`generating the lab key ${paths.identity}`);
    await run.exec.run({
      argv: ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'crvs-lab', '-f', paths.identity],
      description: 'generate the lab SSH key',
    });
  }
  return {
    publicKey: (await readFile(paths.publicKey, 'utf8')).trim(),
    password: await ensurePassword(paths.password, 'lab password'),
  };
}

/** The lab DNS's TSIG secret (HMAC-SHA256 wants 32 bytes, in base64), made once, kept 0600 like the passwords. */
async function ensureTsigSecret(file: string): Promise<string> {
  if (!existsSync(file)) await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return sensitive((await readFile(file, 'utf8')).trim(), 'lab DNS update key').reveal();
}

/** A password of the lab's, made once from the CSPRNG and kept 0600 in the lab directory. */
async function ensurePassword(file: string, what: string): Promise<string> {
  if (!existsSync(file)) await writeFile(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return sensitive((await readFile(file, 'utf8')).trim(), what).reveal();
}

/**
 * The spec the lab writes for itself: the template with the lab key as the first admin's key, and, when the spec
 * sends mail through the lab relay, the lab CA that signs the relay's certificate (a file beside the spec).
 */
export function labSpecText(
  template: string,
  publicKey: string,
  source: string,
  lab?: { registry: { address: string; push: string }; mail: { host: string; ca: string } },
): string {
  const doc = parseDocument(template);
  if (doc.hasIn(['admins', 0])) doc.setIn(['admins', 0, 'sshKeys'], [publicKey]);
  else doc.set('admins', [{ name: 'ops', sshKeys: [publicKey] }]);
  // The host pushes to the lab registry through its loopback publish (Docker trusts 127.0.0.0/8 registries).
  if (lab && doc.getIn(['registry', 'host']) === lab.registry.address)
    doc.setIn(['registry', 'pushVia'], lab.registry.push);
  if (lab && doc.getIn(['smtp', 'host']) === lab.mail.host) doc.setIn(['smtp', 'ca'], lab.mail.ca);
  const header = ` Written by crvs lab up from ${source}; the first admin's key is the lab key.`;
  doc.commentBefore = doc.commentBefore ? `${header}\n${doc.commentBefore}` : header;
  return doc.toString({ lineWidth: 0 });
}

/**
 * The lab spec with each server's host keys pinned (servers[].hostKeys), as an operator would after `crvs
 * hostkeys`: the lab's servers made their keys on first boot and the lab read them from inside, which is the
 * out-of-band check a real operator does on a console. Pure.
 */
export function withLabHostKeys(specText: string, keys: Record<string, string[]>): string {
  const doc = parseDocument(specText);
  const envs = doc.get('environments', true) as { items?: { key: unknown; value: unknown }[] } | undefined;
  for (const pair of envs?.items ?? []) {
    const env = String((pair.key as { value?: unknown })?.value ?? pair.key);
    const servers = doc.getIn(['environments', env, 'servers'], true) as { items?: unknown[] } | undefined;
    (servers?.items ?? []).forEach((_, i) => {
      const name = String(doc.getIn(['environments', env, 'servers', i, 'name']));
      if (keys[name]?.length) doc.setIn(['environments', env, 'servers', i, 'hostKeys'], keys[name]);
    });
  }
  return doc.toString({ lineWidth: 0 });
}

async function forgetHostKey(run: LabRun, paths: LabPaths, server: LabServer): Promise<void> {
  if (!existsSync(paths.knownHosts)) return;
  for (const host of [server.address, server.name])
    await run.exec.run({
      argv: ['ssh-keygen', '-q', '-R', host, '-f', paths.knownHosts],
      allowFailure: true,
      description: `forget the old host key of ${host}`,
    });
}

export async function labUp(run: LabRun, options: LabUpOptions): Promise<LabUpResult> {
  const started = Date.now();
  await ensureHost(run.exec, run.progress, run.root);
  const { spec } = await loadSpec(options.specFile);
  const t = labTopology(spec, options.name);
  const paths = labPaths(options.dir);
  if (existsSync(paths.state)) {
    const previous = JSON.parse(await readFile(paths.state, 'utf8')) as LabState;
    if (previous.topology.name !== t.name)
      throw new CrvsError('E_LAB_DIR', `${paths.dir} belongs to lab ${previous.topology.name}`, {
        hint: 'use another --dir, or crvs lab down that lab first',
      });
  }
  const delivery = {
    ...(await ensureSecrets(run, paths)),
    aptProxy: `http://${t.services.address}:3142`,
    dns: { server: t.services.address, search: t.domain },
  };
  await writeFile(
    paths.sshConfig,
    renderSshConfig(t, { identity: paths.identity, knownHosts: paths.knownHosts }),
  );
  await writeFile(
    paths.spec,
    labSpecText(await readFile(options.specFile, 'utf8'), delivery.publicKey, options.specFile, {
      registry: { address: `${t.services.address}:5000`, push: t.services.registryPush },
      mail: { host: `mail.${t.domain}`, ca: basename(paths.ca) },
    }),
  );

  const recipes = labRecipes(options.mirror);
  const created: string[] = [];
  for (const recipe of [recipes.debian, recipes.server, recipes.services])
    if (await ensureImage(run, recipe, options.mirror)) created.push(recipe.tag);
  // The demo preset's images build FROM this name (deploy knows the demo preset, not the lab).
  await run.exec.run(tagImage(recipes.debian.tag, DEMO_BASE_IMAGE));
  if (await ensureNetwork(run, t)) created.push(t.network.name);

  const services = await ensureContainer(
    run,
    t.services.container,
    async () => {
      for (const volume of Object.values(servicesVolumes(t))) await run.exec.run(volumeCreate(t, volume));
      await run.exec.run(runServices(t, recipes.services.tag));
    },
    recipes.services.tag,
  );
  if (services) run.progress(`lab services ${services} at ${t.services.address}`);
  if (services === 'created' || services === 'replaced') created.push(t.services.container);
  const smtpPassword = await ensurePassword(paths.smtpPassword, 'lab SMTP password');
  const tsigSecret = await ensureTsigSecret(paths.dnsUpdateKey);
  await run.exec.run(
    execScript(
      t.services.container,
      servicesDeliveryScript(t, { password: smtpPassword, tsigSecret }),
      'configure registry, DNS, apt cache, mail relay and ACME CA',
    ),
  );
  const ca = await run.exec.run({
    argv: ['docker', 'exec', t.services.container, 'cat', `${LAB_MAIL_DIR}/ca.pem`],
    description: "read the lab CA's certificate",
  });
  await writeFile(paths.ca, ca.stdout);

  for (const server of t.servers) {
    const outcome = await ensureContainer(run, server.container, async () => {
      await forgetHostKey(run, paths, server);
      await run.exec.run(volumeCreate(t, server.dockerVolume));
      await run.exec.run(runServer(t, server, recipes.server.tag));
    });
    if (outcome) run.progress(`server ${server.name} ${outcome} at ${server.address}`);
    if (outcome === 'created') created.push(server.container);
  }
  await Promise.all(
    t.servers.map(async (server) => {
      const r = await run.exec.run(
        execScript(server.container, serverDeliveryScript(delivery), `hand over ${server.name}`),
      );
      if (r.stdout.includes('foreign'))
        throw new CrvsError(
          'E_LAB_FOREIGN',
          `${server.name} (${server.container}) was handed over with another lab key than ${paths.identity}: ` +
            'it belongs to a lab started from another directory, or this lab lost its key',
          {
            hint: `use the --dir that holds its key, or start this lab afresh: crvs lab down --name ${t.name}, then up again`,
          },
        );
      if (r.stdout.includes('delivered')) {
        run.progress(`server ${server.name} handed over (admin account, lab key)`);
        await waitForSsh(run.exec, paths.sshConfig, server.name);
      } else await waitForPort(server.address, 22, server.name);
    }),
  );

  // Each server's ed25519 host key, read from inside (made on its first boot), pinned in the lab spec.
  const hostKeys: Record<string, string[]> = {};
  for (const server of t.servers) {
    const r = await run.exec.run({
      argv: ['docker', 'exec', server.container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'],
      description: `read ${server.name}'s host key`,
    });
    hostKeys[server.name] = [r.stdout.trim().split(/\s+/).slice(0, 2).join(' ')];
  }
  await writeFile(paths.spec, withLabHostKeys(await readFile(paths.spec, 'utf8'), hostKeys));

  const state: LabState = {
    version: 1,
    topology: t,
    source: options.specFile,
    images: { debian: recipes.debian.tag, server: recipes.server.tag, services: recipes.services.tag },
  };
  if (existsSync(paths.state)) {
    const previous = JSON.parse(await readFile(paths.state, 'utf8')) as LabState;
    if (previous.shaping) state.shaping = previous.shaping;
  }
  await writeFile(paths.state, `${JSON.stringify(state, null, 2)}\n`);
  return { state, paths, created, ms: Date.now() - started };
}
