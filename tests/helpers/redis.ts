import { randomBytes } from 'node:crypto'
import net from 'node:net'
import Redis from 'ioredis'

/** The Redis the tests use (the machine's, or CI's service). Tests only touch keys under their own prefix. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface TestRedis {
  redis: Redis
  /** A unique prefix: `mkt:<label>:<random>`. */
  prefix: string
  /** Keys under the prefix, sorted. */
  keys(): Promise<string[]>
  /** Deletes the prefix's keys (SCAN + UNLINK, never KEYS or FLUSH*) and disconnects. */
  cleanup(): Promise<void>
}

export async function createTestRedis(label: string): Promise<TestRedis> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const prefix = `mkt:${label}:${randomBytes(4).toString('hex')}`
  const keys = async () => {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      found.push(...batch)
    } while (cursor !== '0')
    return found.sort()
  }
  return {
    redis,
    prefix,
    keys,
    cleanup: async () => {
      const left = await keys()
      if (left.length > 0) await redis.unlink(...left)
      redis.disconnect()
    },
  }
}

/** A port nothing listens on: a Redis that is down. */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A TCP door in front of the test Redis: shut (connections refused at once) until open() is called. */
export interface RedisDoor {
  url: string
  open(): void
  close(): Promise<void>
}

export async function redisDoor(): Promise<RedisDoor> {
  const target = new URL(TEST_REDIS_URL)
  let isOpen = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    if (!isOpen) {
      socket.destroy()
      return
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `redis://127.0.0.1:${port}`,
    open: () => {
      isOpen = true
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
