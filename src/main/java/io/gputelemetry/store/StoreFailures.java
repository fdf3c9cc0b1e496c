package io.gputelemetry.store;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.MongoWriteException;
import com.mongodb.bulk.BulkWriteError;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Sorts store errors into "data" (this document can never be written: send it to the DLQ) and
 * "infrastructure" (timeout, no primary, connection lost: retry the batch, never DLQ).
 */
public final class StoreFailures {
  public static final int DUPLICATE_KEY = 11000;

  /** Server error codes that mean "try again", even when reported per document. */
  private static final Set<Integer> TRANSIENT =
      Set.of(
          6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11601, 11602, 13435, 13436, 64, 100);

  private StoreFailures() {}

  public static boolean isDuplicate(int code) {
    return code == DUPLICATE_KEY || code == 11001 || code == 12582;
  }

  /** True when a per-document error code is the document's fault. */
  public static boolean isDataError(int code) {
    return !isDuplicate(code) && !TRANSIENT.contains(code);
  }

  /** Unwraps to the driver's bulk write exception when that is what failed. */
  public static MongoBulkWriteException bulkError(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof MongoBulkWriteException b) {
        return b;
      }
    }
    return null;
  }

  /** A server-reported error code for a whole command, or -1. */
  public static int commandCode(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof MongoCommandException mce) {
        return mce.getErrorCode();
      }
      if (c instanceof MongoWriteException mwe) {
        return mwe.getError().getCode();
      }
      if (c instanceof MongoException me && me.getCode() > 0) {
        return me.getCode();
      }
    }
    return -1;
  }

  /** Duplicates are "already stored", data errors are reported per document, the rest fails. */
  public static Future<WriteOutcome> classify(Throwable err, int size) {
    MongoBulkWriteException bulk = bulkError(err);
    if (bulk == null || bulk.getWriteConcernError() != null) {
      return Future.failedFuture(err);
    }
    Set<Integer> duplicates = new HashSet<>();
    Map<Integer, String> rejected = new HashMap<>();
    for (BulkWriteError e : bulk.getWriteErrors()) {
      if (isDuplicate(e.getCode())) {
        duplicates.add(e.getIndex());
      } else if (isDataError(e.getCode())) {
        rejected.put(
            e.getIndex(),
            "store refused the document (code " + e.getCode() + "): " + e.getMessage());
      } else {
        return Future.failedFuture(err);
      }
    }
    return Future.succeededFuture(new WriteOutcome(size, duplicates, rejected));
  }
}
