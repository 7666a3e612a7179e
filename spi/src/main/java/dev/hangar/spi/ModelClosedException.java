package dev.hangar.spi;

/**
 * Thrown by {@link LoadedModel#infer} after {@link LoadedModel#close()}: the model's resources are
 * gone. Hangar's leases make this unreachable in the server; backends throw it so that a misuse
 * fails clearly instead of crashing in native code. Category {@link ErrorCategory#UNAVAILABLE}.
 */
public class ModelClosedException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception for the named model. */
  public ModelClosedException(String modelName) {
    super(ErrorCategory.UNAVAILABLE, "model '" + modelName + "' is closed");
  }
}
