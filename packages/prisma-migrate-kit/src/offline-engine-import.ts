// The side effect of `import 'prisma-migrate-kit/offline-engine'` (see offline-engine.ts).
import { wireOfflineEngine } from './offline-engine'

wireOfflineEngine()
