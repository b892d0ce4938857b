/**
 * The Tastytrade simulator's two servers assembled so that the DXLink URL handed out by
 * /api-quote-tokens points at a TCP proxy in front of the DXLink server. The simulator binds
 * port 0 and has no fixed-port option; the proxy keeps one address while the test takes the
 * feed away (connections reset, new ones refused) and gives it back. Built from the simulator's
 * own parts (MarketFeed, startDxServer, startRestServer); the simulator itself is not changed.
 */
import { defaultContracts } from '../../src/brokers/simbook.js';
import { defaultBook } from '../../src/brokers/tasty/sim/book.js';
import { defaultDxKnobs, startDxServer, type DxKnobs, type DxServer } from '../../src/brokers/tasty/sim/dxlink-server.js';
import { MarketFeed, type SentGreeks } from '../../src/brokers/tasty/sim/market-feed.js';
import { defaultRestKnobs, startRestServer, type RestServer } from '../../src/brokers/tasty/sim/rest-server.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';

export interface ProxiedTasty {
  env: Record<string, string>;
  dxlink: DxServer;
  rest: RestServer;
  /** Between the plugin and the DXLink server. */
  proxy: TcpProxy;
  sentGreeks(): SentGreeks[];
  close(): Promise<void>;
}

export async function startProxiedTasty(dx: Partial<DxKnobs> = {}): Promise<ProxiedTasty> {
  const contracts = defaultContracts();
  const feed = new MarketFeed(contracts, 7);
  const tokens = new Map<string, number>();
  let issued = 0;
  const dxlink = await startDxServer(feed, (t) => (tokens.get(t) ?? 0) > Date.now(), { ...defaultDxKnobs(), ...dx });
  const proxy = await startProxy(Number(new URL(dxlink.url).port));
  const clientSecret = 'sim-client-secret';
  const refreshToken = 'sim-refresh-token';
  const rest = await startRestServer(
    {
      clientSecret,
      refreshToken,
      book: defaultBook(contracts),
      dxlinkUrl: () => proxy.url(dxlink.url),
      issueQuoteToken(ttlMs) {
        const issuedAt = Date.now();
        const token = `proxied-quote-${++issued}`;
        tokens.set(token, issuedAt + ttlMs);
        return { token, issuedAt, expiresAt: issuedAt + ttlMs };
      },
    },
    defaultRestKnobs(),
  );
  return {
    env: { TASTY_API_URL: rest.url, TASTY_CLIENT_SECRET: clientSecret, TASTY_REFRESH_TOKEN: refreshToken },
    dxlink,
    rest,
    proxy,
    sentGreeks: () => feed.sentGreeks(),
    async close() {
      await proxy.close();
      await Promise.all([dxlink.close(), rest.close()]);
    },
  };
}
