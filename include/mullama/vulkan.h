/* vulkan.h -- the Vulkan compute backend's public face: list devices, open
 * one, close it.  What runs on the device (the last n transformer blocks of a
 * model) is the engine's business (src/engine/vk_forward.c); this header
 * only answers "which devices are there and how much memory do they have".
 *
 * Device choice (mu_vk_init): MULLAMA_VULKAN_DEVICE=index|name-substring picks
 * any device, including CPU implementations such as Mesa's lavapipe
 * (llvmpipe).  Unset: the first discrete GPU, else the first integrated or
 * virtual GPU; CPU devices are never picked implicitly (our CPU path is
 * faster than lavapipe), so with no real GPU mu_vk_init() fails with
 * MU_ENOTFOUND and the caller runs on the CPU.  Nothing here creates a Vulkan
 * instance unless called: a CPU-only run never touches the loader.
 * Built without Vulkan (VULKAN=0): every call fails with MU_EUNSUPPORTED. */
#ifndef MULLAMA_VULKAN_H
#define MULLAMA_VULKAN_H

#include <stdint.h>

#include "mullama/mullama.h"

struct mu_vk_device {
        char name[256];
        const char *type;     /* "discrete", "integrated", "virtual", "cpu", "other" */
        uint64_t mem_bytes;   /* largest device-local heap */
        int api_major, api_minor;
};

/* Fill up to max entries; returns the device count (may exceed max) or a
 * negative MU_E* (no loader, no driver). */
int mu_vk_devices(struct mu_vk_device *out, int max, struct mu_err *err);

struct mu_vk;
/* Open the chosen device (see above).  MU_ENOTFOUND: no usable device. */
int mu_vk_init(struct mu_vk **out, struct mu_err *err);
void mu_vk_free(struct mu_vk *vk);  /* NULL is a no-op */
const struct mu_vk_device *mu_vk_info(const struct mu_vk *vk);
/* Bytes of device memory this context has allocated so far. */
uint64_t mu_vk_mem_used(const struct mu_vk *vk);

#endif
