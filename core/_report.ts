// What the network reports of itself: counts for gauges, snapshots for dashboards.
import { agentRecord, type Registry } from './_registry.ts'
import type {
  ClientStatus,
  ClientUuid,
  ContainerKind,
  ContainerRecord,
  ContainerState,
  ContainerStatus,
  NetworkAgent,
  NetworkCounts,
  NetworkSnapshot,
} from './types.ts'

/** How many agents, clients, references, and containers by kind and state, now. */
export function countsOf<A extends NetworkAgent>(registry: Registry<A>): NetworkCounts {
  const containers: NetworkCounts['containers'] = []
  const add = (kind: ContainerKind, state: ContainerState, count: number) => {
    if (count > 0) containers.push({ kind, state, count })
  }
  for (const [kind, uuids] of registry.byKind) {
    let unused = 0
    for (const uuid of uuids) if (registry.containers.get(uuid)?.unusedSince !== undefined) unused++
    add(kind, 'live', uuids.size - unused)
    add(kind, 'unused', unused)
  }
  const tally = (kinds: Iterable<ContainerKind>, state: ContainerState) => {
    const byKind = new Map<ContainerKind, number>()
    for (const kind of kinds) byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
    for (const [kind, count] of byKind) add(kind, state, count)
  }
  tally([...registry.pending.values()].map((start) => start.kind), 'starting')
  tally([...registry.standbys.values()].flat().map((record) => record.kind), 'standby')
  let clients = registry.clients.size
  for (const [clientId] of registry.references.clients()) {
    if (!registry.clients.has(clientId)) clients++
  }
  let draining = 0
  for (const agent of registry.agentsById.values()) if (agent.draining) draining++
  return {
    agents: registry.agentsById.size,
    draining,
    clients,
    references: registry.references.total,
    containers,
  }
}

/** Everything known now: agents, containers with state and references, clients. */
export function snapshotOf<A extends NetworkAgent>(registry: Registry<A>): NetworkSnapshot {
  const containers: ContainerStatus[] = []
  let references = 0
  for (const [uuid, entry] of registry.containers) {
    let held = 0
    for (const count of registry.references.holdersOf(uuid)?.values() ?? []) held += count
    references += held
    const state = entry.unusedSince === undefined ? 'live' : 'unused'
    containers.push(containerStatus(entry.record, state, held))
  }
  for (const [uuid, start] of registry.pending) {
    const { kind, agentId, labels } = start
    containers.push({ uuid, kind, agentId, labels, state: 'starting', references: 0 })
  }
  for (const records of registry.standbys.values()) {
    for (const record of records) containers.push(containerStatus(record, 'standby', 0))
  }
  const clients = new Map<ClientUuid, ClientStatus>()
  for (const [clientId, lastSeen] of registry.clients) {
    clients.set(clientId, { clientId, lastSeen, references: [] })
  }
  for (const [clientId, held] of registry.references.clients()) {
    let client = clients.get(clientId)
    if (client === undefined) clients.set(clientId, client = { clientId, references: [] })
    for (const uuid of held) {
      client.references.push({
        uuid,
        count: registry.references.holdersOf(uuid)?.get(clientId) ?? 0,
      })
    }
  }
  return {
    agents: [...registry.agentsById.values()].map(agentRecord),
    containers,
    clients: [...clients.values()],
    references,
    recovering: registry.recovering,
  }
}

function containerStatus(
  record: ContainerRecord,
  state: ContainerState,
  references: number,
): ContainerStatus {
  const { uuid, kind, agentId, labels, endpoint, stateless } = record
  return {
    uuid,
    kind,
    agentId,
    labels,
    endpoint,
    state,
    references,
    ...(stateless ? { stateless } : {}),
  }
}
