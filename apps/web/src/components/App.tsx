import { describeHealth } from '../lib/health';
import { useHealth, useOnline, useServiceWorkerUpdate } from '../lib/hooks';

/** The Parley shell: the name, the server's status, and notices about being offline or out of date. */
export default function App() {
  const online = useOnline();
  const health = useHealth(online);
  const update = useServiceWorkerUpdate();
  const offline = !online || health === null;

  return (
    <>
      <header className="masthead">
        <img src="/icons/icon-192.png" alt="" width="40" height="40" />
        <h1>Parley</h1>
      </header>

      {/* One live region, always rendered, so screen readers announce the lines that appear in it. */}
      <div className="status" role="status">
        {health ? <p>{describeHealth(health)}</p> : null}
        {health === undefined && online ? <p>Checking the server…</p> : null}
        {offline ? <p className="notice">Offline — showing the app from this device</p> : null}
        {update ? (
          <p className="notice">
            A new version is ready
            <button type="button" onClick={() => void update()}>
              Reload
            </button>
          </p>
        ) : null}
      </div>
    </>
  );
}
