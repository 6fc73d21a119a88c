// Polyfill so that records and init-only setters compile for netstandard2.0.
namespace System.Runtime.CompilerServices;

internal static class IsExternalInit { }
