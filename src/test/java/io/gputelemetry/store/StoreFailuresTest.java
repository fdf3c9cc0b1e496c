package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.MongoSocketReadException;
import com.mongodb.MongoWriteException;
import com.mongodb.ServerAddress;
import com.mongodb.WriteError;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.bulk.BulkWriteResult;
import com.mongodb.bulk.WriteConcernError;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which store errors are the document's fault (DLQ), already stored, or worth retrying. */
class StoreFailuresTest {
  private static final ServerAddress SERVER = new ServerAddress("db", 27017);

  private static MongoBulkWriteException bulk(WriteConcernError wce, BulkWriteError... errors) {
    return new MongoBulkWriteException(
        BulkWriteResult.unacknowledged(), List.of(errors), wce, SERVER, Set.of());
  }

  private static BulkWriteError error(int code, int index) {
    return new BulkWriteError(code, "msg " + code, new BsonDocument(), index);
  }

  @ParameterizedTest
  @ValueSource(ints = {11000, 11001, 12582})
  void duplicateKeyCodesMeanAlreadyStored(int code) {
    assertTrue(StoreFailures.isDuplicate(code));
    assertFalse(StoreFailures.isDataError(code), "a duplicate is not the document's fault");
  }

  @ParameterizedTest
  // HostUnreachable, HostNotFound, MaxTimeMSExpired, NetworkTimeout, ShutdownInProgress,
  // WriteConflict, PrimarySteppedDown, ExceededTimeLimit, SocketException, NotWritablePrimary,
  // InterruptedAtShutdown, Interrupted, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
  // NotPrimaryOrSecondary, WriteConcernFailed, UnsatisfiableWriteConcern
  @ValueSource(
      ints = {
        6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11601, 11602, 13435, 13436, 64, 100
      })
  void transientCodesAreNeitherDuplicatesNorDataErrors(int code) {
    assertFalse(StoreFailures.isDuplicate(code));
    assertFalse(StoreFailures.isDataError(code), "retry, never dead-letter");
  }

  @ParameterizedTest
  // BadValue, DocumentValidationFailure, a key too long (17280), an unknown code
  @ValueSource(ints = {2, 121, 17280, 424242})
  void otherCodesAreTheDocumentsFault(int code) {
    assertFalse(StoreFailures.isDuplicate(code));
    assertTrue(StoreFailures.isDataError(code));
  }

  @Test
  void theBulkErrorIsFoundUnderWrappers() {
    MongoBulkWriteException b = bulk(null, error(11000, 0));
    assertSame(b, StoreFailures.bulkError(b));
    assertSame(b, StoreFailures.bulkError(new CompletionException(new RuntimeException("x", b))));
    assertNull(StoreFailures.bulkError(new RuntimeException("no bulk write here")));
    assertNull(StoreFailures.bulkError(null));
  }

  @Test
  void theCommandCodeComesFromWhicheverDriverExceptionCarriesIt() {
    MongoCommandException command =
        new MongoCommandException(
            new BsonDocument("ok", new BsonInt32(0))
                .append("code", new BsonInt32(85))
                .append("errmsg", new BsonString("IndexOptionsConflict")),
            SERVER);
    assertEquals(85, StoreFailures.commandCode(new RuntimeException("wrapped", command)));
    MongoWriteException write =
        new MongoWriteException(
            new WriteError(121, "invalid", new BsonDocument()), SERVER, Set.of());
    assertEquals(121, StoreFailures.commandCode(write));
    assertEquals(91, StoreFailures.commandCode(new MongoException(91, "shutting down")));
    assertEquals(
        -1,
        StoreFailures.commandCode(new MongoSocketReadException("connection reset", SERVER)),
        "a network error has no server code");
    assertEquals(-1, StoreFailures.commandCode(new IllegalStateException("not the store")));
  }

  @Test
  void aBulkFailureOfDuplicatesAndDataErrorsIsAnOutcomeNotAFailure() {
    Future<WriteOutcome> f =
        StoreFailures.classify(
            new CompletionException(bulk(null, error(11000, 1), error(121, 3), error(11000, 4))),
            6);
    assertTrue(f.succeeded());
    WriteOutcome o = f.result();
    assertEquals(6, o.size());
    assertEquals(Set.of(1, 4), o.duplicates());
    assertEquals(Map.of(3, "store refused the document (code 121): msg 121"), o.rejected());
    assertEquals(3, o.inserted(), "6 - 2 duplicates - 1 refused");
  }

  @Test
  void aTransientPerDocumentErrorFailsTheWholeBatch() {
    MongoBulkWriteException b = bulk(null, error(11000, 0), error(91, 1));
    Future<WriteOutcome> f = StoreFailures.classify(b, 2);
    assertTrue(f.failed(), "retry the batch");
    assertSame(b, f.cause());
  }

  @Test
  void aWriteConcernErrorOrANonBulkErrorFails() {
    MongoBulkWriteException wce =
        bulk(new WriteConcernError(64, "WriteConcernFailed", "timeout", new BsonDocument()));
    assertTrue(StoreFailures.classify(wce, 1).failed(), "not known to be durable: retry");
    RuntimeException other = new RuntimeException("timeout");
    assertSame(other, StoreFailures.classify(other, 1).cause());
  }
}
