// {{display_name}}: lists each product whose stock changed with its current level, and takes
// units sold on the marketplace off the store's stock. Imports exactly what airlock.toml
// declares: inventory (inventory:read), inventory-updates (inventory:write); storage and log
// need no scope.
import { get as getLevel } from 'airlock:connector/inventory@{{contract_version}}';
import { adjust } from 'airlock:connector/inventory-updates@{{contract_version}}';
import { get as load, delete as forget } from 'airlock:connector/storage@{{contract_version}}';
import { write as log } from 'airlock:connector/log@{{contract_version}}';

{{helpers}}

async function onEvent(event) {
  if (event.topic !== 'inventory.changed') {
    return { acted: false, summary: `not interested in ${event.topic}` };
  }
  const sku = event.subjectId;
  // Units sold on the marketplace and not yet taken off the store's stock, kept under
  // `sold/<sku>` by your marketplace sync.
  const sold = load(`sold/${sku}`);
  if (sold != null) {
    const units = Number.parseInt(new TextDecoder().decode(sold), 10);
    if (Number.isSafeInteger(units) && units > 0) {
      adjust(sku, -units);
      log('info', `took ${units} marketplace sales of ${sku} off the stock`);
    }
    forget(`sold/${sku}`);
  }
  const level = getLevel(sku);
  const listed = level.available > 0n ? level.available : 0n;
  // Update the listing on your marketplace here: declare its origin under [[http]] in
  // airlock.toml (the build then keeps `fetch`) and its API key under [[secrets]].
  return { acted: true, summary: `${level.title}: ${listed} units to list on the marketplace` };
}

export const handler = {
  async handleEvent(event) {
    return answer(() => onEvent(event));
  },
  healthCheck() {},
};
