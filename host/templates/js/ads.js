// {{display_name}}: prepares a conversion for your ad platform from each new order and keeps
// it in the connector's own storage until it is sent. Imports exactly what airlock.toml
// declares: orders (orders:read); storage and log need no scope.
import { get as getOrder } from 'airlock:connector/orders@{{contract_version}}';
import { set as store } from 'airlock:connector/storage@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

async function onEvent(event) {
  if (event.topic !== 'order.created') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  const order = getOrder(event.subjectId);
  // No customer data: a conversion is the order's value and time, nothing about who bought.
  const conversion = {
    order: order.id,
    value: String(order.total.amountMinor),
    currency: order.total.currency,
    at: String(order.createdAt),
  };
  // Send it to your ad platform here: declare its origin under [[http]] in airlock.toml (the
  // build then keeps `fetch`) and its API key under [[secrets]].
  store(`conversions/${order.id}`, new TextEncoder().encode(JSON.stringify(conversion)));
  log('info', `conversion for ${order.number} prepared`);
  return { acted: true, summary: `conversion for ${order.number} worth ${money(order.total)} prepared` };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
