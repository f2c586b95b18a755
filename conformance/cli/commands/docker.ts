import type { Command } from 'commander';
import { requireRoot } from '../../lab/lab.ts';
import { engineSocketPath, ensureEngine, releaseEngine, stopEngine } from '../../lab/docker-engine.ts';
import { ensureImages, imageSizes, pruneStaleImages } from '../../lab/images/build.ts';
import { labContainers } from '../../lab/backends/docker.ts';

// `peerproof docker start|stop|images|image`: the private dockerd the docker lab backend runs on,
// the FRR/GoBGP/BIRD images it builds (CI can build them once up front, and stop the engine
// after), and the peerproof image that runs the main job in a container.

export function register(program: Command): void {
  const docker = program.command('docker').description("the lab's private Docker engine and its FRR/GoBGP/BIRD images");

  docker
    .command('start')
    .description('start peerproof\'s dockerd (own data root and socket, no iptables/forwarding changes); reuses a running one')
    .action(async () => {
      requireRoot();
      // Started on purpose: kept when the last run using it is done, until `peerproof docker stop`.
      const engine = await ensureEngine(undefined, { keep: true });
      process.stdout.write(`dockerd ${engine.started ? 'started' : 'already running'}: pid ${engine.pid}, socket ${engine.socketPath}\n`);
    });

  docker
    .command('stop')
    .description('stop peerproof\'s dockerd and put back the host settings recorded before it started')
    .action(async () => {
      requireRoot();
      const result = await stopEngine();
      process.stdout.write(result.stopped ? 'dockerd stopped\n' : 'no dockerd of peerproof was running\n');
      for (const change of result.restored) process.stdout.write(`restored ${change}\n`);
    });

  docker
    .command('images')
    .option('--prune', 'remove peerproof images of older recipes')
    .description('build the lab images if the cache lacks them (debootstrap of bookworm + Debian packages), and list them')
    .action(async (opts: { prune?: boolean }) => {
      requireRoot();
      const engine = await ensureEngine(undefined, { keep: true });
      const report = await ensureImages(engine.docker);
      if (report.built.length > 0) {
        const s = report.seconds;
        process.stdout.write(`built ${report.built.join(', ')} (debootstrap ${s.rootfs ?? 0} s, import ${s.import ?? 0} s, router images ${s.routers ?? 0} s)\n`);
      }
      const sizes = await imageSizes(engine.docker, report.images);
      for (const [tag, bytes] of Object.entries(sizes)) process.stdout.write(`${tag.padEnd(32)} ${(bytes / 1e6).toFixed(0)} MB\n`);
      if (opts.prune) for (const tag of await pruneStaleImages(engine.docker, report.images)) process.stdout.write(`removed ${tag}\n`);
      const running = await labContainers(engine.docker);
      if (running.length > 0) process.stdout.write(`lab containers: ${running.join(', ')}\n`);
      process.stdout.write(`engine socket: ${engineSocketPath()}\n`);
    });

  docker
    .command('image')
    .description('build the peerproof image (the lab base + Node + this checkout and its node_modules; entrypoint `peerproof`) if the engine lacks this checkout\'s, and tag it peerproof/peerproof:latest')
    .action(async () => {
      requireRoot();
      const { containerRunFlags, ensurePeerproofImage, PEERPROOF_IMAGE_LATEST } = await import('../../lab/images/peerproof-image.ts');
      // A build is one user among others: the engine stops afterwards unless someone else (or
      // `peerproof docker start`) keeps it.
      const engine = await ensureEngine(undefined, { holder: 'image-build' });
      try {
        const report = await ensurePeerproofImage(engine.docker);
        const lab = report.lab.seconds;
        if (report.lab.built.length > 0) process.stdout.write(`built lab images ${report.lab.built.join(', ')} (debootstrap ${lab.rootfs ?? 0} s, import ${lab.import ?? 0} s, router images ${lab.routers ?? 0} s)\n`);
        process.stdout.write(
          report.built
            ? `built ${report.tag} (context ${report.seconds.context} s, docker build ${report.seconds.build} s)\n`
            : `${report.tag}: already built for this checkout\n`,
        );
        process.stdout.write(`${PEERPROOF_IMAGE_LATEST} = ${report.tag}, ${(report.size / 1e6).toFixed(0)} MB\n`);
        process.stdout.write(
          `run:  docker -H unix://${engineSocketPath()} run --rm ${containerRunFlags().join(' ')} -v "$PWD/out:/report" ${PEERPROOF_IMAGE_LATEST} run --fixture seed-000-cilium-two-subnets --report /report\n` +
            '      (start the engine first with `peerproof docker start`; see docs/container-image.md)\n',
        );
      } finally {
        const released = await releaseEngine(undefined, 'image-build');
        process.stdout.write(`docker engine: ${released.outcome === 'stopped' ? 'stopped (no other user)' : released.outcome === 'kept' ? 'left running (kept)' : 'left running (in use)'}\n`);
      }
    });
}
