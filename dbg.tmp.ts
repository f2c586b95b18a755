import { startLabSut } from './conformance/tester/lab/sut-lab.ts';
import { killDaemon } from './conformance/lab/restart.ts';
const sut = await startLabSut({ kind: 'profile', name: 'gobgp' }, { runsRoot: '/tmp/clauselab/runs' });
try {
  console.log('alive', sut.alive());
  await killDaemon(sut.lab, 'sut');
  console.log('alive after kill', sut.alive());
  await sut.recover();
  console.log('alive after recover', sut.alive());
} catch (e) { console.log('ERR', e); } finally { await sut.stop(); }
