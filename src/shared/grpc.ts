/** Guards for the gRPC status of a failed Temporal service call (named codes, never bare numbers). */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';

export { GrpcStatus };

/** The gRPC status of a failed Temporal service call, looking through the client's wrappers; undefined otherwise. */
export function grpcStatusOf(err: unknown): GrpcStatus | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

/** True when a Temporal call failed because the workflow or run does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || grpcStatusOf(err) === GrpcStatus.NOT_FOUND;
}
