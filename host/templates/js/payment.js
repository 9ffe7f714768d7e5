// {{display_name}}: asks your payment gateway whether each new order was paid and marks it
// paid. Imports exactly what airlock.toml declares: orders (orders:read), order-updates
// (orders:write), log, and wasi:http for `fetch` to the declared origin. The API key is never
// in the code: the host attaches it where the request says `{{secret:gateway_key}}`.
import { get as getOrder } from 'airlock:connector/orders@{{contract_version}}';
import { setFinancialStatus } from 'airlock:connector/order-updates@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

const GATEWAY = 'https://api.paygate.example';

/** The cause a provider's answer points to, or undefined when it is a success. */
function providerCause(response) {
  const { status } = response;
  if (status < 400) return undefined;
  if (status === 401 || status === 403) return { tag: 'invalid-credentials' };
  if (status === 402) return { tag: 'billing-issue' };
  if (status === 429) {
    const seconds = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
    return { tag: 'rate-limited', val: Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : undefined };
  }
  if (status >= 500) return { tag: 'provider-unavailable' };
  return { tag: 'provider-api-changed', val: `the gateway answered ${status}` };
}

async function onEvent(event) {
  if (event.topic !== 'order.created') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  const order = getOrder(event.subjectId);
  if (order.financialStatus === 'paid') {
    return { acted: false, summary: `${order.number} is already marked paid` };
  }
  let response;
  try {
    response = await fetch(`${GATEWAY}/v1/payments?reference=${encodeURIComponent(order.number)}`, {
      headers: { authorization: 'Bearer {{secret:gateway_key}}' },
    });
  } catch (e) {
    // Refused by the host (an origin not declared) or unreachable.
    return fail({ tag: 'network', val: `the gateway could not be reached: ${e.message}` });
  }
  const cause = providerCause(response);
  if (cause) return fail(cause);
  const payment = await response.json();
  if (payment.status !== 'captured') {
    return { acted: false, summary: `${order.number}: the payment is ${payment.status ?? 'unknown'}, not captured yet` };
  }
  setFinancialStatus(order.id, 'paid');
  log('info', `${order.number} confirmed paid`);
  return { acted: true, summary: `${order.number} confirmed paid by the gateway and marked paid` };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
