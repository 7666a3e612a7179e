package dev.hangar.backend.torchscript;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A small TorchScript module shipped in this jar ({@code dtype_bridge.pt}, written by {@code
 * src/main/python/dtype_bridge.py}) that does inside libtorch what DJL 0.36 cannot: create BF16 and
 * INT16 tensors, and name the element type of a tensor DJL reports as UNKNOWN.
 *
 * <p>One bridge serves every model of a backend. Its methods may be called from many threads at
 * once, as libtorch allows for any TorchScript module.
 */
final class DtypeBridge implements AutoCloseable {
  private static final String RESOURCE = "dtype_bridge.pt";

  private final NDManager manager;
  private final PtSymbolBlock module;

  private DtypeBridge(NDManager manager, PtSymbolBlock module) {
    this.manager = manager;
    this.module = module;
  }

  /** Loads the bridge from this jar into the given engine. */
  static DtypeBridge load(Engine engine) {
    NDManager manager = engine.newBaseManager();
    try (InputStream in = DtypeBridge.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is missing from the backend jar");
      }
      PtSymbolBlock module = JniUtils.loadModule((PtNDManager) manager, in, true, false);
      JniUtils.enableInferenceMode(module);
      return new DtypeBridge(manager, module);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw new ModelLoadException(
          ErrorCategory.INTERNAL,
          "the TorchScript backend cannot load its dtype bridge: " + e.getMessage(),
          e);
    }
  }

  /**
   * Converts an INT32 tensor holding 16-bit patterns (BF16 bits, or INT16 values) into a BF16 or
   * INT16 tensor, bit for bit, attached to {@code manager}.
   */
  PtNDArray fromInt32(PtNDArray carrier, DataType target, PtNDManager manager) {
    String method =
        switch (target) {
          case BF16 -> "bfloat16_from_bits";
          case INT16 -> "int16_from_int32";
          default -> throw new IllegalArgumentException(target + " needs no bridge");
        };
    try (IValue argument = IValue.from(carrier);
        IValue result = IValueUtils.runMethod(module, method, argument)) {
      return result.toTensor(manager);
    }
  }

  /** Returns the {@code c10::ScalarType} code of a tensor's element type. */
  long scalarTypeOf(PtNDArray array) {
    try (IValue argument = IValue.from(array);
        IValue result = IValueUtils.runMethod(module, "dtype_of", argument)) {
      return result.toLong();
    }
  }

  @Override
  public void close() {
    module.close();
    manager.close();
  }
}
