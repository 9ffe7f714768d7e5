// {{display_name}}: composes an order confirmation for each new order. Imports exactly what
// airlock.toml declares: orders (orders:read), customers (customers:read; the phone number
// only under customers:read-contact), and log.
import { get as getOrder } from 'airlock:connector/orders@{{contract_version}}';
import { get as getCustomer } from 'airlock:connector/customers@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

async function onEvent(event) {
  if (event.topic !== 'order.created') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  const order = getOrder(event.subjectId);
  const customer = order.customerId ? getCustomer(order.customerId) : undefined;
  if (!customer?.phone) {
    log('warn', 'no phone number shared (customers:read-contact not approved)');
    return {
      acted: false,
      summary: `no phone number shared for ${order.number}, so no confirmation was sent`,
    };
  }
  const greeting = customer.name ? `Hi ${customer.name}` : 'Hello';
  const message = `${greeting}, thank you for order ${order.number} (${money(order.total)}).`;
  // Send `message` with your messaging provider here: declare its origin under [[http]] in
  // airlock.toml (the build then keeps `fetch`) and its API key under [[secrets]].
  log('info', `confirmation for ${order.number} composed (${message.length} characters)`);
  return {
    acted: true,
    summary: `confirmation for ${order.number} to ${customer.phone.slice(0, 3)}•••${customer.phone.slice(-2)}`,
  };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
