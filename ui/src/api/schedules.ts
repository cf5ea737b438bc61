import { api, get, post, query } from './client.js';
import type { Json } from './types.js';

/** A schedule as the server sends it (docs/triggers.md). */
export interface Schedule {
  schedule_id: string;
  path: string;
  version: number | null;
  cron: string;
  timezone: string;
  workload: Json;
  enabled: boolean;
  catchup: 'skip' | 'one' | 'all';
  catchup_limit: number;
  overlap: 'allow' | 'skip' | 'cancel_previous';
  description: string | null;
  next_run_at: string | null;
  last_run_at: string | null;
  last_status: string | null;
  created_at: string;
  updated_at: string;
  next_fire_times: string[];
}

export interface ScheduleFire {
  schedule_id: string;
  fire_time: string;
  execution_id: string | null;
  outcome: string;
  error: string | null;
  created_at: string;
}

export interface NewSchedule {
  path: string;
  cron: string;
  timezone: string;
  workload: Record<string, Json>;
  version?: number;
  enabled: boolean;
  catchup: Schedule['catchup'];
  overlap: Schedule['overlap'];
  description?: string;
}

const one = (id: string) => `/api/schedules/${encodeURIComponent(id)}`;

export const listSchedules = (signal?: AbortSignal) =>
  get<{ items: Schedule[]; count: number }>('/api/schedules', signal);
export const getSchedule = (id: string, signal?: AbortSignal) => get<Schedule>(one(id), signal);
export const scheduleFires = (id: string, limit: number, signal?: AbortSignal) =>
  get<{ items: ScheduleFire[]; count: number }>(`${one(id)}/fires${query({ limit })}`, signal);
export const createSchedule = (body: NewSchedule) => post<Schedule>('/api/schedules', body);
export const setPaused = (id: string, paused: boolean) =>
  post<Schedule>(`${one(id)}/${paused ? 'pause' : 'resume'}`);
export const triggerSchedule = (id: string) =>
  post<{ schedule_id: string; fire_time: string; execution_id: string }>(`${one(id)}/trigger`);
export const deleteSchedule = (id: string) => api<{ deleted: boolean }>('DELETE', one(id));
