// What a frontend does with a client generated from Cohortly's schema. It is
// never run: `tsc --strict` type-checking it against the generated types is the
// test (cohortly/tests/test_contract.py), so a schema change that breaks these
// calls breaks the build.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

// An error code a strict client can switch on: an enum in the schema.
type ErrorCode401 = components["schemas"]["ErrorCode401Enum"];

export async function walkThrough(baseUrl: string): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });

  // Log in: no credentials needed, and the body is typed.
  const login = await anonymous.POST("/api/v1/auth/login/", {
    body: { email: "student@cohortly.dev", password: "Student-Demo-2026!" },
  });
  if (login.error) {
    const code: string = login.error.errors[0]!.code;
    const unauthorized: ErrorCode401 | undefined = login.response.status === 401 ? (code as ErrorCode401) : undefined;
    console.log("login refused:", code, unauthorized);
    return;
  }
  const access: string = login.data.access;
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });

  // List bootcamps, sorted by two fields, and read their seats.
  const bootcamps = await client.GET("/api/v1/bootcamps/", {
    params: { query: { status: ["PUBLISHED"], ordering: ["-start_date", "title"], page_size: 10 } },
  });
  const open = (bootcamps.data?.results ?? []).find((bootcamp) => bootcamp.seats_left > 0);
  if (!open) return;
  const id: number = open.id;

  // Enroll, and read the error's code when refused.
  const enrolled = await client.POST("/api/v1/enrollments/", { body: { bootcamp: id } });
  if (enrolled.error) {
    const code: string = enrolled.error.errors[0]!.code;
    console.log("not enrolled:", code);
  } else {
    const status: "ACTIVE" | "WAITLISTED" | "CANCELLED" | "COMPLETED" | "DROPPED" = enrolled.data.status;
    console.log(status, enrolled.data.waitlist_position);
  }

  // A bootcamp by id: the path id is a number.
  const one = await client.GET("/api/v1/bootcamps/{id}/", { params: { path: { id } } });
  console.log(one.data?.title);

  // An instructor edits the description alone: a PATCH sends only what changes.
  const edited = await client.PATCH("/api/v1/bootcamps/{id}/", { params: { path: { id } }, body: { description: "Evenings." } });
  console.log(edited.data?.location);

  // A student hands in a link alone (content, a link or both).
  const handedIn = await client.POST("/api/v1/assignments/{id}/submissions/", {
    params: { path: { id: 7 } },
    body: { link: "https://github.com/ada/api" },
  });
  console.log(handedIn.data?.status);

  // The leads list with a search: JSON only, so `results` is there to read.
  const leads = await client.GET("/api/v1/leads/", { params: { query: { search: "grace", ordering: ["-created_at"] } } });
  for (const lead of leads.data?.results ?? []) {
    const owner: string | null = lead.owner ? lead.owner.full_name : null;
    console.log(lead.id, lead.full_name, owner, lead.bootcamp?.title ?? "");
  }
  if (leads.error) {
    const code: string = leads.error.errors[0]!.code;
    console.log("leads refused:", code);
  }

  // Grading above max_score answers max_value, a code the schema lists.
  const graded = await client.POST("/api/v1/submissions/{id}/grade/", {
    params: { path: { id: 1 } },
    body: { score: "999", feedback: "" },
  });
  if (graded.error && graded.error.type === "validation_error") {
    const codes: string[] = graded.error.errors.map((error) => error.code);
    console.log(codes.includes("max_value"));
  }

  // The public lead form answers the same receipt every time (staff get the lead).
  const captured = await anonymous.POST("/api/v1/leads/", {
    body: { full_name: "Grace Hopper", email: "grace@example.com", source: "WEBSITE" },
  });
  if (captured.data && "id" in captured.data) console.log(captured.data.id);
}
