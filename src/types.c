/* types.c -- the ggml type table (see types.h). */
#include <stddef.h>
#include <strings.h>

#include "mullama/types.h"

static const struct mu_type_info infos[MU_TYPE_COUNT] = {
        [MU_TYPE_F32] = {"F32", 1, 4, 0},
        [MU_TYPE_F16] = {"F16", 1, 2, 0},
        [MU_TYPE_Q4_0] = {"Q4_0", 32, 18, 1},
        [MU_TYPE_Q4_1] = {"Q4_1", 32, 20, 1},
        [MU_TYPE_Q5_0] = {"Q5_0", 32, 22, 1},
        [MU_TYPE_Q5_1] = {"Q5_1", 32, 24, 1},
        [MU_TYPE_Q8_0] = {"Q8_0", 32, 34, 1},
        [MU_TYPE_Q8_1] = {"Q8_1", 32, 36, 1},
        [MU_TYPE_Q2_K] = {"Q2_K", 256, 84, 1},
        [MU_TYPE_Q3_K] = {"Q3_K", 256, 110, 1},
        [MU_TYPE_Q4_K] = {"Q4_K", 256, 144, 1},
        [MU_TYPE_Q5_K] = {"Q5_K", 256, 176, 1},
        [MU_TYPE_Q6_K] = {"Q6_K", 256, 210, 1},
        [MU_TYPE_Q8_K] = {"Q8_K", 256, 292, 1},
        [MU_TYPE_IQ2_XXS] = {"IQ2_XXS", 256, 66, 1},
        [MU_TYPE_IQ2_XS] = {"IQ2_XS", 256, 74, 1},
        [MU_TYPE_IQ3_XXS] = {"IQ3_XXS", 256, 98, 1},
        [MU_TYPE_IQ1_S] = {"IQ1_S", 256, 50, 1},
        [MU_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18, 1},
        [MU_TYPE_IQ3_S] = {"IQ3_S", 256, 110, 1},
        [MU_TYPE_IQ2_S] = {"IQ2_S", 256, 82, 1},
        [MU_TYPE_IQ4_XS] = {"IQ4_XS", 256, 136, 1},
        [MU_TYPE_I8] = {"I8", 1, 1, 0},
        [MU_TYPE_I16] = {"I16", 1, 2, 0},
        [MU_TYPE_I32] = {"I32", 1, 4, 0},
        [MU_TYPE_I64] = {"I64", 1, 8, 0},
        [MU_TYPE_F64] = {"F64", 1, 8, 0},
        [MU_TYPE_IQ1_M] = {"IQ1_M", 256, 56, 1},
        [MU_TYPE_BF16] = {"BF16", 1, 2, 0},
        [MU_TYPE_TQ1_0] = {"TQ1_0", 256, 54, 1},
        [MU_TYPE_TQ2_0] = {"TQ2_0", 256, 66, 1},
        [MU_TYPE_MXFP4] = {"MXFP4", 32, 17, 1},
};

const struct mu_type_info *mu_type_info(int t)
{
        if (t < 0 || t >= MU_TYPE_COUNT || !infos[t].name)
                return NULL;
        return &infos[t];
}

const char *mu_type_name(int t)
{
        const struct mu_type_info *ti = mu_type_info(t);

        return ti ? ti->name : "?";
}

int mu_type_from_name(const char *name)
{
        for (int t = 0; t < MU_TYPE_COUNT; t++)
                if (infos[t].name && !strcasecmp(infos[t].name, name))
                        return t;
        return -1;
}

size_t mu_row_size(int t, int64_t ne0)
{
        const struct mu_type_info *ti = mu_type_info(t);

        if (!ti || ne0 < 0 || ne0 % ti->blck_size)
                return 0;
        return (size_t)(ne0 / ti->blck_size) * (size_t)ti->type_size;
}

const char *mu_ftype_name(int ftype)
{
        switch (ftype) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 19: return "IQ2_XXS";
        case 20: return "IQ2_XS";
        case 21: return "Q2_K_S";
        case 22: return "IQ3_XS";
        case 23: return "IQ3_XXS";
        case 24: return "IQ1_S";
        case 25: return "IQ4_NL";
        case 26: return "IQ3_S";
        case 27: return "IQ3_M";
        case 28: return "IQ2_S";
        case 29: return "IQ2_M";
        case 30: return "IQ4_XS";
        case 31: return "IQ1_M";
        case 32: return "BF16";
        case 36: return "TQ1_0";
        case 37: return "TQ2_0";
        case 38: return "MXFP4_MOE";
        }
        return "unknown";
}
