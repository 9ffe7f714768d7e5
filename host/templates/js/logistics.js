// {{display_name}}: books a courier pickup for each new order and marks it fulfilled. Imports
// exactly what airlock.toml declares: orders (orders:read), order-updates (orders:write), log.
import { get as getOrder } from 'airlock:connector/orders@{{contract_version}}';
import { setFulfillmentStatus } from 'airlock:connector/order-updates@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

async function onEvent(event) {
  if (event.topic !== 'order.created') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  const order = getOrder(event.subjectId);
  if (order.fulfillmentStatus === 'fulfilled' || order.fulfillmentStatus === 'cancelled') {
    return { acted: false, summary: `${order.number} is already ${order.fulfillmentStatus}` };
  }
  const units = order.lineItems.reduce((sum, item) => sum + item.quantity, 0);
  // Book the pickup with your courier here: declare its origin under [[http]] in airlock.toml
  // (the build then keeps `fetch`) and its API key under [[secrets]].
  setFulfillmentStatus(order.id, 'fulfilled');
  log('info', `pickup booked for ${order.number}`);
  return {
    acted: true,
    summary: `booked a pickup for ${order.number} (${units} units) and marked it fulfilled`,
  };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
