// A refused host call throws an error whose `payload` is the WIT `host-error`; the handler
// answers with a WIT `connector-error`, the cause the merchant sees and can act on.

/** The merchant-facing cause for a failed host call (what `?` does in the Rust SDK). */
function causeOf(hostError) {
  switch (hostError.tag) {
    case 'denied':
      return { tag: 'permission-missing', val: hostError.val };
    case 'not-found':
      return { tag: 'other', val: 'record not found' };
    case 'invalid-input':
      return { tag: 'other', val: `invalid input: ${hostError.val}` };
    case 'limit-exceeded':
      return { tag: 'other', val: `host limit reached: ${hostError.val}` };
    default:
      return { tag: 'other', val: 'store data temporarily unavailable' };
  }
}

/** `err(cause)` as the export returns it. */
function fail(cause) {
  return { tag: 'err', val: cause };
}

/**
 * Run `handle`: an outcome becomes `ok`, a returned `fail(...)` stays an error, and a failed
 * host call becomes its cause. Anything else thrown is a bug: it is not caught, so the call
 * fails and the host reports the exception's message (from stderr).
 */
async function answer(handle) {
  try {
    const out = await handle();
    return out?.tag === 'err' ? out : { tag: 'ok', val: out };
  } catch (e) {
    if (e?.payload?.tag) return fail(causeOf(e.payload));
    throw e;
  }
}

/** `INR 1249.00` */
function money({ amountMinor, currency }) {
  const minor = BigInt(amountMinor);
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${currency} ${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
