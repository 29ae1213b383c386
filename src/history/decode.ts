/**
 * Decoding what history records (inputs, results, failures) with a client's data converter, through the SDK's
 * public converter API: the payload codecs (encryption at rest) in reverse order, then the payload converter.
 */
import { fromPayloadsAtIndex, type LoadedDataConverter, type Payload, type ProtoFailure } from '@temporalio/common';
import { DecryptionError } from '../shared/errors';

async function decodePayloads(converter: LoadedDataConverter, payloads: Payload[]): Promise<Payload[]> {
  let out = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) out = await codec.decode(out);
  return out;
}

/** The value at `index` of a payload list (a workflow input, an activity result). */
export async function decodeValue<T>(
  converter: LoadedDataConverter,
  payloads: Payload[] | null | undefined,
  index = 0,
): Promise<T> {
  try {
    return fromPayloadsAtIndex<T>(converter.payloadConverter, index, await decodePayloads(converter, payloads ?? []));
  } catch (err) {
    throw explainDecodeError(err);
  }
}

/** One payload (an event's summary), or null when absent. */
export async function decodeOptionalValue<T>(
  converter: LoadedDataConverter,
  payload: Payload | null | undefined,
): Promise<T | null> {
  return payload ? decodeValue<T>(converter, [payload]) : null;
}

async function decodeFailureProto(converter: LoadedDataConverter, failure: ProtoFailure): Promise<ProtoFailure> {
  const details = failure.applicationFailureInfo?.details?.payloads;
  return {
    ...failure,
    encodedAttributes: failure.encodedAttributes
      ? ((await decodePayloads(converter, [failure.encodedAttributes]))[0] ?? null)
      : null,
    cause: failure.cause ? await decodeFailureProto(converter, failure.cause) : null,
    ...(failure.applicationFailureInfo
      ? {
          applicationFailureInfo: {
            ...failure.applicationFailureInfo,
            details: details ? { payloads: await decodePayloads(converter, details) } : null,
          },
        }
      : {}),
  };
}

/** A recorded failure as the Error chain the SDK would throw (ApplicationFailure with its details, causes). */
export async function decodeFailure(
  converter: LoadedDataConverter,
  failure: ProtoFailure | null | undefined,
): Promise<Error | undefined> {
  if (!failure) return undefined;
  try {
    return converter.failureConverter.failureToError(
      await decodeFailureProto(converter, failure),
      converter.payloadConverter,
    );
  } catch (err) {
    throw explainDecodeError(err);
  }
}

/** Turns the SDK's error for an encrypted payload without a codec into a {@link DecryptionError}. */
export function explainDecodeError(err: unknown): unknown {
  if (err instanceof Error && /Unknown encoding: binary\/encrypted/.test(err.message)) {
    return new DecryptionError(
      'this run is encrypted and no key is configured here: set AGENT_TEAM_ENCRYPTION_KEY (and _KEY_ID), or ' +
        'AGENT_TEAM_ENCRYPTION_KEY_FILE, to the key it was written with',
      { cause: err },
    );
  }
  return err;
}
