package dev.hangar.cli;

import dev.hangar.cli.remote.RemoteException;
import dev.hangar.spi.InvalidInputException;
import java.util.function.Supplier;

/**
 * A command used wrongly in a way picocli cannot see (such as an unreadable input file): exit 2.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }

  /**
   * Runs {@code step}, making inputs the model does not take a usage error (exit 2), as inputs that
   * cannot be read are: whether JSON or a .npy file, in process or refused by a server (400).
   */
  static <T> T forRefusedInputs(Supplier<T> step) {
    try {
      return step.get();
    } catch (InvalidInputException e) {
      throw new UsageException(e.getMessage());
    } catch (RemoteException e) {
      if (e.status() == 400) {
        throw new UsageException(e.getMessage());
      }
      throw e;
    }
  }
}
