// A ReplicationFollower in its own process, from the test build (test/global-setup.ts), so a
// test can kill -9 it. argv: buildDir dataDir host port secret nodeId. Prints "caught-up";
// SIGTERM stops it cleanly (prints "stopped").
const [buildDir, dataDir, host, port, secret, nodeId] = process.argv.slice(2);
const { ReplicationFollower } = await import(`${buildDir}/src/cluster/replication/index.js`);
const f = new ReplicationFollower({ dataDir, nodeId, secret, epoch: 1, leader: { host, port: Number(port) }, retryMs: 100 });
f.on('caught-up', () => console.log('caught-up'));
f.on('error', (e) => console.log(`error ${e.message}`));
process.on('SIGTERM', () => {
  void f.stop().then(() => {
    console.log('stopped');
    process.exit(0);
  });
});
await f.start();
