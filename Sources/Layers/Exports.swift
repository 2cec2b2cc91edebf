// Callers of the network also need the loss and the thread setting: `import Layers` is enough.
@_exported import Kernels
@_exported import Tensors
