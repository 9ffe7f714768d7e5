// {{display_name}}: keeps a running total of sales per currency in the connector's own
// storage. Imports exactly what airlock.toml declares: orders (orders:read); storage and log
// need no scope.
import { get as getOrder } from 'airlock:connector/orders@{{contract_version}}';
import { get as load, set as store } from 'airlock:connector/storage@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

async function onEvent(event) {
  if (event.topic !== 'order.created') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  // Delivery is at least once: the event id makes a repeat harmless.
  const seen = `seen/${event.id}`;
  if (load(seen) != null) {
    return { acted: false, summary: 'already counted this event' };
  }
  const order = getOrder(event.subjectId);
  const key = `revenue/${order.total.currency}`;
  const stored = load(key);
  const before = stored == null ? 0n : BigInt(new TextDecoder().decode(stored));
  const after = before + BigInt(order.total.amountMinor);
  store(key, new TextEncoder().encode(after.toString()));
  store(seen, new Uint8Array());
  log('info', `counted ${order.number}`);
  return {
    acted: true,
    summary: `counted ${order.number}: ${money(order.total)} (${money({ amountMinor: after, currency: order.total.currency })} so far)`,
  };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
