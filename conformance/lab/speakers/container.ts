// `--speaker docker:IMAGE`: the vendor's own image as the speaker of a lab node. A container of
// the image runs in peerproof's private Docker engine (docker-engine.ts) with no network of its
// own; the profile's start command runs inside it (its filesystem, users and PID namespace) but in
// the lab node's network namespace, which already has the fixture's links, addresses and
// captures. The user's config template, rendered for the node, is mounted read-only where the
// profile says. Removing the container ends every process in it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BackendProcess } from '../backend.ts';
import { namespaceName } from '../backends/netns.ts';
import { ensureEngine, releaseEngine, runningEngine, type Engine } from '../docker-engine.ts';
import type { SpeakerHook } from '../lab.ts';
import type { RouteEntry } from '../kinds/kind.ts';
import type { ContainerSpec, SpeakerProfile } from './profile.ts';
import { readRibQuery } from './rib-query.ts';
import { nodeVariables, renderTemplate } from './template.ts';

export interface ContainerSpeakerOptions {
  image: string;
  profile: SpeakerProfile;
  /** The user's config template (`--speaker-config`), else the profile's `container.template`. */
  template?: string;
}

/** Container name of a node's speaker: the run id makes it unique on the machine. */
export function speakerContainerName(runId: string, node: string): string {
  return `pp-${runId}-${node}-speaker`;
}

/** Whether a container speaker of this process uses the engine (holds a lease on it). */
let usingEngine = false;

const HOLDER = 'container-speakers';

async function engine(): Promise<Engine> {
  const e = await ensureEngine(undefined, { holder: HOLDER });
  usingEngine = true;
  return e;
}

/**
 * A run's container speakers are done: gives back this process's lease; the engine stops (and
 * the host settings are restored) only if no other peerproof process still uses it.
 */
export async function releaseEngineUsedHere(): Promise<void> {
  if (!usingEngine) return;
  usingEngine = false;
  await releaseEngine(undefined, HOLDER);
}

export function containerSpec(profile: SpeakerProfile): ContainerSpec {
  if (!profile.container) throw new Error(`speaker profile ${profile.file} has no \`container:\` section (config path and start command for docker:IMAGE)`);
  return profile.container;
}

export function containerSpeakerHook(opts: ContainerSpeakerOptions): SpeakerHook {
  const spec = containerSpec(opts.profile);
  const templateFile = opts.template ?? spec.template;
  if (!templateFile) throw new Error(`docker:${opts.image}: no config template: pass --speaker-config FILE or set container.template in ${opts.profile.file}`);
  if (!existsSync(templateFile)) throw new Error(`docker:${opts.image}: config template ${templateFile} does not exist`);
  const template = readFileSync(templateFile, 'utf8');
  return async ({ backend, node, dir, topology }) => {
    if (backend.name !== 'netns') throw new Error(`docker:IMAGE speakers join the netns backend's lab (this lab runs on ${backend.name})`);
    const runId = backend.ledger.summary().runId;
    const speakerDir = join(dir, 'speaker');
    mkdirSync(speakerDir, { recursive: true });
    const configFile = join(speakerDir, basename(spec.config));
    writeFileSync(configFile, renderTemplate(template, nodeVariables(node, topology), templateFile));
    const { docker, socketPath } = await engine();
    try {
      await docker.getImage(opts.image).inspect();
    } catch {
      throw new Error(`image ${opts.image} is not in peerproof's docker engine; load it first: docker -H unix://${socketPath} load -i IMAGE.tar`);
    }
    const name = speakerContainerName(runId, node.name);
    backend.ledger.record({ t: 'resource', backend: 'docker', kind: 'container', id: name });
    const removeSync = () => {
      try {
        execFileSync('docker', ['-H', `unix://${socketPath}`, 'rm', '-f', name], { stdio: 'ignore', timeout: 20_000 });
      } catch {
        // gone already, or the engine is down
      }
    };
    process.on('exit', removeSync);
    const remove = async () => {
      process.off('exit', removeSync);
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw err;
        });
    };
    let pid: number;
    try {
      const container = await docker.createContainer({
        name,
        Image: opts.image,
        // Only a keeper: the speaker itself starts once the node's network is ready.
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        Labels: { 'org.peerproof.run': runId, 'org.peerproof.node': node.name, 'org.peerproof.speaker': opts.profile.name },
        HostConfig: { NetworkMode: 'none', Init: true, Binds: [`${configFile}:${spec.config}:ro`] },
      });
      await container.start();
      pid = (await container.inspect()).State.Pid;
      if (!pid) throw new Error(`container ${name} started but has no PID`);
    } catch (err) {
      await remove().catch(() => undefined);
      throw err;
    }
    // `ip netns exec` puts nsenter in the node's network; nsenter adds the container's mounts,
    // hostname, IPC and PIDs.
    const proc = await backend.spawn(node.name, ['nsenter', '-t', String(pid), '-m', '-u', '-i', '-p', '--', ...spec.start], {
      label: `speaker:${opts.profile.name}`,
      logFile: join(speakerDir, 'speaker.log'),
    });
    const stopped: BackendProcess = {
      pid: proc.pid,
      exited: proc.exited,
      async stop(sig, graceMs) {
        await remove();
        await proc.stop(sig, graceMs);
      },
      detach: () => {
        process.off('exit', removeSync);
        proc.detach();
      },
    };
    return [stopped];
  };
}

/** The container speaker's RIB through the profile's `container.rib` query, or null without one. */
export async function containerRib(profile: SpeakerProfile, runId: string, node: string): Promise<RouteEntry[] | null> {
  const rib = containerSpec(profile).rib;
  if (!rib) return null;
  // Read by case workers while the run that started the speaker holds the engine's lease: a lease
  // taken here would outlive the run (until this worker exits) and keep the engine up.
  const running = await runningEngine();
  if (!running) throw new Error(`peerproof's docker engine is not running, so the speaker container of ${node} is not either`);
  const pid = (await running.docker.getContainer(speakerContainerName(runId, node)).inspect()).State.Pid;
  return readRibQuery(rib, `in the speaker of ${node}`, ['ip', 'netns', 'exec', namespaceName(runId, node), 'nsenter', '-t', String(pid), '-m', '-u', '-i', '-p', '--']);
}
