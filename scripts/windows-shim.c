/* Tests under Wine only: Wine 8.0 lacks bcryptprimitives.dll!ProcessPrng, which Rust >= 1.78's
   std imports. Forwards to advapi32!SystemFunction036 (RtlGenRandom). Never install this on
   Windows, which has the real one. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size) {
    ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}
