import net from 'node:net'

/**
 * A TCP proxy in front of PostgreSQL that the test can stall: `stall()` stops forwarding on every connection open at
 * that moment, in both directions, and keeps their sockets open (the peer neither answers nor hangs up: a dead NAT
 * entry, a frozen load balancer, a failed-over primary whose address still accepts packets). Connections opened after
 * the stall are forwarded as usual, as a client reconnecting would find a working path.
 */
export interface StallProxy {
  /** DATABASE_URL through the proxy. */
  url: string
  stall(): void
  /** Connections the proxy holds stalled now. */
  stalled(): number
  close(): Promise<void>
}

export async function stallProxy(databaseUrl: string): Promise<StallProxy> {
  const target = new URL(databaseUrl)
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; stalled: boolean }>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    const pair = { client, upstream, stalled: false }
    pairs.add(pair)
    // Forward by hand (not pipe) so a stall can drop bytes without closing anything.
    client.on('data', (chunk: Buffer) => {
      if (!pair.stalled) upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.stalled) client.write(chunk)
    })
    // A stalled path carries no hang-up either: the client giving up on it leaves the server's session open (until
    // close()), as the server would not hear of it through a dead path.
    const end = () => {
      if (pair.stalled && !upstream.destroyed && client.destroyed) return
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    stall: () => {
      for (const pair of pairs) pair.stalled = true
    },
    stalled: () => [...pairs].filter((pair) => pair.stalled).length,
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy()
        pair.upstream.destroy()
      }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
